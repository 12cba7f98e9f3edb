"""The demo source: a scripted scene of real face photos, no camera needed.

Over each cycle (60 s by default) viewers arrive, stay for several seconds and leave; one only
flashes past (too brief to count) and one stands too far away (too small to count), so the
demo exercises real inference and real sessions, including the ones that must not happen.
"""

from __future__ import annotations

import time

import numpy as np

from affectra_edge.cameras.base import FrameSource, SourceInfo
from affectra_edge.cameras.scene import Appearance, render

# Times are for a 60 s cycle and are scaled to the configured cycle length.
DEMO_SCRIPT: tuple[Appearance, ...] = (
    Appearance(3, 15, 0.30, 0.45, 150),
    Appearance(8, 22, 0.72, 0.50, 125, flip=True),
    Appearance(26, 34, 0.50, 0.42, 175),
    Appearance(38.0, 38.3, 0.22, 0.50, 140),  # a blip: never a session
    Appearance(40, 50, 0.90, 0.20, 24),  # far away: too small to be a session
    Appearance(44, 56, 0.30, 0.50, 140),
    Appearance(47, 55, 0.72, 0.45, 120, flip=True),
)
SESSIONS_PER_CYCLE = 5


def scaled_script(cycle_s: float) -> tuple[Appearance, ...]:
    factor = cycle_s / 60.0
    return tuple(Appearance(a.start_s * factor, a.end_s * factor, a.x, a.y, a.face_px, a.flip,
                            a.drift_px, a.photo) for a in DEMO_SCRIPT)


class DemoSource(FrameSource):
    live = False

    def __init__(self, width: int = 640, height: int = 480, fps: float = 15.0,
                 cycle_s: float = 60.0, clock=time.monotonic):
        self.width, self.height, self.fps = width, height, fps
        self.cycle_s = cycle_s
        self.script = scaled_script(cycle_s)
        self._clock = clock
        self._t0: float | None = None

    def open(self) -> None:
        self._t0 = self._clock()

    def read(self) -> np.ndarray:
        if self._t0 is None:
            self.open()
        t = (self._clock() - self._t0) % self.cycle_s  # type: ignore[operator]
        return render(self.script, t, self.width, self.height)

    def close(self) -> None:
        self._t0 = None

    def info(self) -> SourceInfo:
        return SourceInfo(self.width, self.height, self.fps)

    def describe(self) -> str:
        return f"demo scene ({self.width}x{self.height}, {self.cycle_s:g} s cycle)"
