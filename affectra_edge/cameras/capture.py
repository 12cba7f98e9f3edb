"""Webcams and network streams through OpenCV's capture API."""

from __future__ import annotations

import os

import cv2
import numpy as np

from affectra_edge.cameras.base import FrameSource, SourceError, SourceInfo
from affectra_edge.cameras.rtsp_check import check_rtsp
from affectra_edge.logs import redact

# RTSP over TCP: on a busy Wi-Fi, UDP loses packets and every lost one tears a frame. Set once
# at import, before any capture thread exists (setenv is not thread-safe).
os.environ.setdefault("OPENCV_FFMPEG_CAPTURE_OPTIONS", "rtsp_transport;tcp")


class CaptureSource(FrameSource):
    """A V4L2 webcam (device index or path) or an RTSP/HTTP stream via FFmpeg."""

    live = True

    def __init__(self, target: str, width: int = 640, height: int = 480, fps: float = 15.0,
                 timeout_s: float = 5.0, opener=cv2.VideoCapture):
        self.target = target
        self.width, self.height, self.fps = width, height, fps
        self.timeout_s = timeout_s
        self._opener = opener
        self._capture = None
        self._info = SourceInfo(0, 0, 0.0)

    @property
    def is_device(self) -> bool:
        return self.target.isdigit() or self.target.startswith("/dev/")

    def open(self) -> None:
        timeout_ms = int(self.timeout_s * 1000)
        if self.is_device:
            index = int(self.target) if self.target.isdigit() else self.target
            capture = self._opener(index, cv2.CAP_V4L2)
        else:
            if self.target.lower().startswith(("rtsp://", "rtsps://")):
                check_rtsp(self.target, self.timeout_s)
            params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, timeout_ms,
                      cv2.CAP_PROP_READ_TIMEOUT_MSEC, timeout_ms]
            capture = self._opener(self.target, cv2.CAP_FFMPEG, params)
        if not capture.isOpened():
            capture.release()
            raise SourceError(f"cannot open {self.describe()}")
        if self.is_device:
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
            capture.set(cv2.CAP_PROP_FPS, self.fps)
        self._info = SourceInfo(int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
                                int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
                                float(capture.get(cv2.CAP_PROP_FPS) or self.fps))
        self._capture = capture

    def read(self) -> np.ndarray:
        if self._capture is None:
            raise SourceError(f"{self.describe()}: read before open")
        ok, frame = self._capture.read()
        if not ok or frame is None:
            raise SourceError(f"{self.describe()}: no frame (camera disconnected or timed out)")
        return frame

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None

    def info(self) -> SourceInfo:
        return self._info

    def describe(self) -> str:
        if self.is_device:
            return f"webcam {self.target}"
        return f"stream {redact(self.target)}"
