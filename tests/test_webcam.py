"""Webcams (V4L2 through OpenCV).

No V4L2 device exists on a test machine, so a fake stands in for ``cv2.VideoCapture`` here,
and only here: it behaves like a UVC webcam that grants a different size and rate than asked.
Everything around it (the source, the worker, the status) is the real code.
"""

from __future__ import annotations

import threading
import time

import cv2
import numpy as np
import pytest

from affectra_edge.cameras.base import SourceError
from affectra_edge.cameras.capture import CaptureSource
from affectra_edge.cameras.worker import CameraWorker


class FakeV4L2Capture:
    """Stands in for cv2.VideoCapture on a V4L2 device that only does 320×240 at 30 fps."""

    opened_with: list = []

    def __init__(self, target, backend, fail_after: int | None = None, present: bool = True):
        FakeV4L2Capture.opened_with.append((target, backend))
        self.present, self.fail_after = present, fail_after
        self.requested: dict[int, float] = {}
        self.frames = 0

    def isOpened(self):
        return self.present

    def set(self, prop, value):
        self.requested[prop] = value
        return True

    def get(self, prop):
        return {cv2.CAP_PROP_FRAME_WIDTH: 320, cv2.CAP_PROP_FRAME_HEIGHT: 240,
                cv2.CAP_PROP_FPS: 30.0}.get(prop, 0.0)

    def read(self):
        if self.fail_after is not None and self.frames >= self.fail_after:
            return False, None
        self.frames += 1
        time.sleep(0.005)  # a real device blocks until its next frame
        return True, np.full((240, 320, 3), self.frames % 255, np.uint8)

    def release(self):
        self.present = False


def test_a_webcam_reports_what_the_device_actually_delivers():
    made = []

    def opener(target, backend):
        made.append(FakeV4L2Capture(target, backend))
        return made[-1]

    source = CaptureSource("0", width=640, height=480, fps=15, opener=opener)
    source.open()
    assert made[0].requested == {cv2.CAP_PROP_FRAME_WIDTH: 640, cv2.CAP_PROP_FRAME_HEIGHT: 480,
                                 cv2.CAP_PROP_FPS: 15}
    assert FakeV4L2Capture.opened_with[-1] == (0, cv2.CAP_V4L2)
    info = source.info()
    assert (info.width, info.height, info.fps) == (320, 240, 30.0)
    assert source.read().shape == (240, 320, 3)
    assert source.describe() == "webcam 0"
    source.close()


def test_a_device_path_is_opened_as_a_path():
    source = CaptureSource("/dev/video2", opener=FakeV4L2Capture)
    source.open()
    assert FakeV4L2Capture.opened_with[-1] == ("/dev/video2", cv2.CAP_V4L2)


def test_a_missing_webcam_is_one_clear_error():
    source = CaptureSource("3", opener=lambda t, b: FakeV4L2Capture(t, b, present=False))
    with pytest.raises(SourceError, match="cannot open webcam 3"):
        source.open()


def test_an_unplugged_webcam_goes_offline_and_the_worker_retries():
    attempts = []

    def make_source():
        attempts.append(1)
        return CaptureSource("0", opener=lambda t, b: FakeV4L2Capture(t, b, fail_after=5))

    stop = threading.Event()
    worker = CameraWorker("usb", make_source, stop, reconnect_max_s=0.5)
    worker.start()
    deadline = time.monotonic() + 10
    seen = set()
    while len(attempts) < 3:
        assert time.monotonic() < deadline, worker.status()
        status = worker.status()
        seen.add((status.state, status.last_error))
        time.sleep(0.005)
    status = worker.status()
    stop.set()
    worker.join(2)
    assert status.frames_received >= 10
    assert (status.width, status.height) == (320, 240)
    assert ("offline", "webcam 0: no frame (camera disconnected or timed out)") in seen
    assert ("online", None) in seen
