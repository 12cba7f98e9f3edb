"""File and demo sources, and the worker that keeps only the latest frame."""

import threading
import time

import cv2
import numpy as np
import pytest

from affectra_edge.cameras.base import FrameSource, SourceError, SourceInfo
from affectra_edge.cameras.demo import DEMO_SCRIPT, DemoSource
from affectra_edge.cameras.file import FileSource
from affectra_edge.cameras.scene import Appearance, face_box_at
from affectra_edge.cameras.worker import OFFLINE, ONLINE, CameraWorker
from tests.conftest import write_video


def test_file_source_plays_a_video_once_or_in_a_loop(tmp_path):
    video = write_video(tmp_path / "v.avi", [Appearance(0, 1, 0.5, 0.5, 120)], 1.0, fps=10)
    once = FileSource(video, loop=False)
    once.open()
    assert once.info().fps == pytest.approx(10) and once.info().width == 640
    frames = []
    while (frame := once.read()) is not None:
        frames.append(frame)
    once.close()
    assert len(frames) == 10 and frames[0].shape == (480, 640, 3)
    looped = FileSource(video, loop=True)
    looped.open()
    assert all(looped.read() is not None for _ in range(25))
    looped.close()


def test_file_source_reads_a_folder_and_skips_corrupt_images(tmp_path):
    image = np.full((48, 64, 3), 128, np.uint8)
    cv2.imwrite(str(tmp_path / "a.png"), image)
    (tmp_path / "b.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    cv2.imwrite(str(tmp_path / "c.png"), image)
    source = FileSource(tmp_path, loop=False)
    source.open()
    frames = [source.read(), source.read(), source.read()]
    assert [f is None for f in frames] == [False, False, True]
    assert source.skipped == 1


@pytest.mark.parametrize("name, message", [("missing.avi", "no such file"),
                                           ("garbage.avi", "cannot open as a video")])
def test_file_source_errors_name_the_file(tmp_path, name, message):
    if name == "garbage.avi":
        (tmp_path / name).write_bytes(b"\x00" * 1000)
    with pytest.raises(SourceError, match=message) as caught:
        FileSource(tmp_path / name).open()
    assert name in str(caught.value)


def test_demo_source_follows_its_script():
    clock = [100.0]
    source = DemoSource(cycle_s=60.0, clock=lambda: clock[0])
    source.open()
    clock[0] += 1.0  # t = 1 s: nobody there yet
    empty = source.read()
    clock[0] += 9.0  # t = 10 s: the first two viewers
    busy = source.read()
    assert empty.shape == busy.shape == (480, 640, 3)
    first = face_box_at(DEMO_SCRIPT[0], 10.0, 640, 480)
    x, y, w, h = first
    assert np.abs(busy[y:y + h, x:x + w].astype(int) - empty[y:y + h, x:x + w]).mean() > 20


class ScriptedSource(FrameSource):
    """A non-live source that fails on chosen attempts and delivers numbered frames."""

    live = False

    def __init__(self, attempts: list, frames: int = 1000, fps: float = 200.0):
        self.attempts, self.frames, self.fps = attempts, frames, fps
        self.sent = 0

    def open(self):
        self.attempts.append("open")
        if len(self.attempts) == 1:
            raise SourceError("camera unplugged")

    def read(self):
        if self.sent >= self.frames:
            return None
        self.sent += 1
        return np.full((4, 4, 3), self.sent % 256, np.uint8)

    def close(self):
        pass

    def info(self):
        return SourceInfo(4, 4, self.fps)

    def describe(self):
        return "scripted"


def test_worker_reconnects_after_a_failed_open_and_reports_status():
    stop, attempts = threading.Event(), []
    worker = CameraWorker("c1", lambda: ScriptedSource(attempts, frames=200), stop,
                          reconnect_max_s=1.0)
    worker.start()
    deadline = time.monotonic() + 10
    seen_offline = False
    while not worker.ended.is_set() and time.monotonic() < deadline:
        status = worker.status()
        seen_offline |= status.state == OFFLINE and status.last_error == "camera unplugged"
        worker.next_frame(0.05)
    stop.set()
    assert worker.join(2)
    assert seen_offline and attempts == ["open", "open"]
    final = worker.status()
    assert final.frames_received == 200 and final.state == OFFLINE
    assert final.last_error == "the source has ended"


def test_worker_keeps_only_the_latest_frame_and_counts_drops():
    stop = threading.Event()
    worker = CameraWorker("c2", lambda: ScriptedSource(["ok"], frames=100_000, fps=500), stop)
    worker.start()
    taken = []
    while len(taken) < 10:
        frame = worker.next_frame(1.0)
        assert frame is not None
        taken.append(frame.index)
        stop.wait(0.05)  # a slow consumer
        assert worker.status().state == ONLINE
    status = worker.status()
    stop.set()
    worker.join(2)
    assert taken == sorted(taken) and len(set(taken)) == 10
    assert status.frames_dropped > 0
    assert status.frames_received - status.frames_dropped - len(taken) in (0, 1)


class OddFramesSource(ScriptedSource):
    """Frames as some drivers deliver them: grayscale, BGRA, empty, float."""

    def __init__(self):
        super().__init__(["ok"], frames=4)
        self.odd = [np.full((6, 8), 7, np.uint8), np.full((6, 8, 4), 9, np.uint8),
                    np.zeros((0, 0, 3), np.uint8), np.zeros((6, 8, 3), np.float32)]

    def read(self):
        return self.odd.pop(0) if self.odd else None


def test_worker_turns_odd_frames_into_bgr_or_skips_them():
    stop = threading.Event()
    worker = CameraWorker("odd", OddFramesSource, stop)
    worker.start()
    assert worker.ended.wait(5)
    latest = worker.next_frame(0.1)  # the BGRA frame, the last usable one
    stop.set()
    worker.join(2)
    status = worker.status()
    assert status.frames_received == 2 and status.frames_invalid == 2
    assert latest.image.shape == (6, 8, 3) and latest.image.dtype == np.uint8
    assert (latest.image == 9).all()
