"""Build the frame source a camera's settings describe."""

from __future__ import annotations

from affectra_edge.cameras.base import FrameSource
from affectra_edge.cameras.capture import CaptureSource
from affectra_edge.cameras.demo import DemoSource
from affectra_edge.cameras.file import FileSource
from affectra_edge.config import CameraConfig


def make_source(camera: CameraConfig) -> FrameSource:
    if camera.kind == "demo":
        return DemoSource(camera.width, camera.height, camera.fps, camera.demo_cycle_s)
    if camera.kind == "file":
        return FileSource(camera.source, loop=camera.loop, fps=None)
    if camera.kind in ("webcam", "mjpeg", "rtsp"):
        return CaptureSource(camera.source or "0", camera.width, camera.height, camera.fps,
                             timeout_s=camera.stall_timeout_s)
    raise ValueError(f"unknown camera kind {camera.kind!r}")
