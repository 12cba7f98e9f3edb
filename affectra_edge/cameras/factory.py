"""Build the frame source a camera's settings describe."""

from __future__ import annotations

from affectra_edge.cameras.base import FrameSource
from affectra_edge.cameras.capture import CaptureSource
from affectra_edge.cameras.demo import DemoSource
from affectra_edge.cameras.file import FileSource
from affectra_edge.cameras.mjpeg import MjpegSource
from affectra_edge.config import CameraConfig


def make_source(camera: CameraConfig) -> FrameSource:
    if camera.kind == "demo":
        return DemoSource(camera.width, camera.height, camera.fps, camera.demo_cycle_s)
    if camera.kind == "file":
        return FileSource(camera.source, loop=camera.loop, fps=None)
    if camera.kind == "mjpeg":
        return MjpegSource(camera.source, mode=camera.mode, fps=camera.fps,
                           connect_timeout_s=camera.connect_timeout_s,
                           stall_timeout_s=camera.stall_timeout_s,
                           max_frame_bytes=camera.max_frame_bytes)
    if camera.kind in ("webcam", "rtsp"):
        return CaptureSource(camera.source or "0", camera.width, camera.height, camera.fps,
                             timeout_s=camera.connect_timeout_s)
    raise ValueError(f"unknown camera kind {camera.kind!r}")


def guess_kind(source: str) -> str:
    """The camera kind a source string most likely means (for `affectra test-camera`)."""
    lowered = source.lower()
    if lowered.startswith(("http://", "https://")):
        return "mjpeg"
    if lowered.startswith(("rtsp://", "rtsps://")):
        return "rtsp"
    if source.isdigit() or source.startswith("/dev/"):
        return "webcam"
    if "://" in source:
        return "mjpeg"  # an unknown scheme: the MJPEG check names the schemes it takes
    return "file"
