"""'Test camera': connect, grab frames for a moment, report what came or the exact error.

Nothing is saved. The probe runs in a thread of its own with an overall deadline, so a camera
whose driver blocks can never hang the caller (the web UI or the CLI).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from affectra_edge.cameras.base import (
    FrameSource,
    SourceError,
    as_bgr,
    close_quietly,
    rate_per_s,
)
from affectra_edge.config import CameraConfig


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    message: str  # one sentence for the user: what came, or what went wrong
    width: int = 0
    height: int = 0
    fps: float = 0.0
    frames: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def probe_camera(camera: CameraConfig, make_source: Callable[[CameraConfig], FrameSource],
                 sample_s: float = 3.0, max_frames: int = 120,
                 timeout_s: float | None = None) -> ProbeResult:
    """Open the camera, read up to ``max_frames`` frames for ``sample_s``, close it."""
    deadline_s = timeout_s or camera.connect_timeout_s + camera.stall_timeout_s + sample_s + 1
    outcome: list[ProbeResult] = []
    thread = threading.Thread(target=lambda: outcome.append(
        _probe(camera, make_source, sample_s, max_frames)), name=f"probe-{camera.id}",
        daemon=True)
    thread.start()
    thread.join(deadline_s)
    if outcome:
        return outcome[0]
    return ProbeResult(False, f"no answer from the camera within {deadline_s:.0f} s")


def _probe(camera: CameraConfig, make_source: Callable[[CameraConfig], FrameSource],
           sample_s: float, max_frames: int) -> ProbeResult:
    try:
        source = make_source(camera)
    except (SourceError, ValueError) as exc:
        return ProbeResult(False, str(exc))
    try:
        source.open()
        times, shape = [], (0, 0)
        end = time.monotonic() + sample_s
        while len(times) < max_frames and time.monotonic() < end:
            image = as_bgr(source.read())
            if image is None:
                break
            times.append(time.monotonic())
            shape = image.shape[:2]
        if not times:
            return ProbeResult(False, f"{source.describe()} opened but gave no usable frame")
        fps = _measured_fps(times) if source.live else source.info().fps
        height, width = shape
        return ProbeResult(True, f"{width}×{height} at {fps:.1f} fps from {source.describe()}",
                           width, height, round(fps, 1), len(times))
    except SourceError as exc:
        return ProbeResult(False, str(exc))
    except Exception as exc:  # an unexpected failure is still one readable answer
        return ProbeResult(False, f"unexpected error: {exc}")
    finally:
        close_quietly(source)


def _measured_fps(times: list[float]) -> float:
    """Frames per second over the later half of the sampling time: the first frames often
    come in a burst from the camera's or the network's buffers."""
    middle = (times[0] + times[-1]) / 2
    return rate_per_s([t for t in times if t >= middle])
