"""The small interface every frame source implements."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

log = logging.getLogger(__name__)


def as_bgr(image: object) -> np.ndarray | None:
    """A frame as 8-bit 3-channel BGR, or None when it cannot be one (empty, odd type)."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.size == 0:
        return None
    if image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 1):
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    if image.ndim == 3 and image.shape[2] == 3:
        return image
    return None


def rate_per_s(times: Sequence[float], now: float | None = None,
               stale_after_s: float | None = None) -> float:
    """Events per second over monotonic ``times`` (oldest first); 0.0 with fewer than two, or
    when the newest is older than ``stale_after_s`` at ``now``."""
    if len(times) < 2 or times[-1] <= times[0]:
        return 0.0
    if stale_after_s is not None and now is not None and now - times[-1] > stale_after_s:
        return 0.0
    return (len(times) - 1) / (times[-1] - times[0])


def close_quietly(source: FrameSource) -> None:
    """Close ``source``; a failure to close must not hide the error that made us close it."""
    try:
        source.close()
    except Exception:
        log.debug("closing %s failed", source.describe(), exc_info=True)


class SourceError(Exception):
    """A source cannot open or read; the message says what and why, in words."""


class StalledError(SourceError):
    """The source is connected but has delivered no new frame for too long."""


@dataclass(frozen=True)
class SourceInfo:
    width: int
    height: int
    fps: float


class FrameSource(ABC):
    """A camera, a file or the demo scene.

    ``read()`` returns the next BGR frame, or ``None`` when a finite source has ended. It
    raises :class:`SourceError` when the source fails. ``live`` sources deliver frames at
    their own pace; the worker paces the others at ``info().fps``.
    """

    live: bool = True
    # Frames the source received but could not use (corrupt, oversized); the worker reports
    # them with its own count of unusable frames. ``last_skip`` says why, in words.
    skipped: int = 0
    last_skip: str | None = None
    # True when close() may be called from another thread to wake a blocked read() (a
    # socket can be shut down that way; an OpenCV capture cannot: it would crash).
    interruptible: bool = False

    @abstractmethod
    def open(self) -> None: ...

    @abstractmethod
    def read(self) -> np.ndarray | None: ...

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def info(self) -> SourceInfo: ...

    @abstractmethod
    def describe(self) -> str:
        """A short human description, safe to log (no credentials)."""
