"""The small interface every frame source implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np


class SourceError(Exception):
    """A source cannot open or read; the message says what and why, in words."""


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
