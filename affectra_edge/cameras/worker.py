"""One thread per camera: read frames, keep only the latest, report status.

The analyzer may be slower than the camera; the worker never queues frames for it. A frame
not taken before the next one arrives is dropped and counted. A failing source is closed and
reopened with capped exponential backoff and jitter, always waiting on the stop event.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from affectra_edge.cameras.base import (
    FrameSource,
    SourceError,
    StalledError,
    as_bgr,
    close_quietly,
    rate_per_s,
)

log = logging.getLogger(__name__)

ONLINE, OFFLINE, STALLED, DISABLED = "online", "offline", "stalled", "disabled"


@dataclass(frozen=True)
class Frame:
    image: np.ndarray  # 8-bit BGR
    timestamp: float  # wall clock (epoch seconds) when the worker received it
    monotonic: float  # time.monotonic() then: for durations, immune to clock steps
    index: int


@dataclass(frozen=True)
class CameraStatus:
    camera_id: str
    state: str
    description: str
    last_error: str | None
    frames_received: int
    frames_dropped: int
    frames_invalid: int
    fps: float
    width: int
    height: int

    def as_dict(self) -> dict:
        return asdict(self)


class CameraWorker:
    def __init__(self, camera_id: str, make_source: Callable[[], FrameSource],
                 stop: threading.Event, reconnect_max_s: float = 30.0,
                 clock: Callable[[], float] = time.time):
        self.camera_id = camera_id
        self._make_source = make_source
        self._stop = stop
        self._reconnect_max_s = reconnect_max_s
        self._clock = clock
        self._cond = threading.Condition()
        self._latest: Frame | None = None
        self._taken_index = -1
        self._received = 0
        self._dropped = 0
        self._invalid = 0
        self._source: FrameSource | None = None
        self._state = OFFLINE
        self._description = camera_id
        self._last_error: str | None = None
        self._size = (0, 0)
        self._arrivals: deque[float] = deque(maxlen=30)
        self.ended = threading.Event()  # set when a finite source has played out
        self._thread = threading.Thread(target=self._run, name=f"camera-{camera_id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop the worker and wake a read blocked in the source (closing it from here)."""
        self._stop.set()
        self.wake()
        source = self._source
        if source is not None and source.interruptible:
            close_quietly(source)

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def join(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def status(self) -> CameraStatus:
        with self._cond:
            fps = rate_per_s(list(self._arrivals), time.monotonic(), stale_after_s=2.0)
            skipped = self._source.skipped if self._source is not None else 0
            return CameraStatus(self.camera_id, self._state, self._description,
                                self._last_error, self._received, self._dropped,
                                self._invalid + skipped, round(fps, 2),
                                self._size[0], self._size[1])

    def next_frame(self, timeout_s: float) -> Frame | None:
        """The newest frame not yet taken, waiting up to ``timeout_s`` for one."""
        with self._cond:
            ready = self._cond.wait_for(
                lambda: (self._latest is not None and self._latest.index != self._taken_index)
                or self._stop.is_set(), timeout=timeout_s)
            if not ready or self._latest is None or self._latest.index == self._taken_index:
                return None
            self._taken_index = self._latest.index
            return self._latest

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            source = None
            opened_at = time.monotonic()
            try:
                source = self._make_source()
                self._source = source
                self._description = source.describe()
                source.open()
                log.info("camera %s opened: %s", self.camera_id, self._description)
                if self._pump(source, source.info().fps):
                    log.info("camera %s: %s has ended", self.camera_id, self._description)
                    self._set_state(OFFLINE, "the source has ended")
                    self.ended.set()
                    return
            except StalledError as exc:
                if self._stop.is_set():  # closed under our feet by stop(): not a failure
                    break
                self._set_state(STALLED, str(exc))
                log.warning("camera %s stalled: %s; reconnecting", self.camera_id, exc)
            except SourceError as exc:
                if self._stop.is_set():
                    break
                self._set_state(OFFLINE, str(exc))
                log.warning("camera %s offline: %s", self.camera_id, exc)
            except Exception as exc:  # a bug in a source must not end the worker
                if self._stop.is_set():
                    break
                self._set_state(OFFLINE, f"unexpected error: {exc}")
                log.exception("camera %s failed unexpectedly", self.camera_id)
            finally:
                if source is not None:
                    close_quietly(source)
                    with self._cond:  # keep its skipped frames in the running total
                        self._invalid += source.skipped
                        self._source = None
            # Back off further unless the camera had been working for a good while: one that
            # sends a frame and drops the connection must not be hammered every second.
            steady = time.monotonic() - opened_at >= max(10.0, self._reconnect_max_s)
            failures = 1 if steady else failures + 1
            delay = min(self._reconnect_max_s,
                        0.5 * 2 ** min(failures, 10) * random.uniform(0.8, 1.2))
            if self._stop.wait(delay):
                break

    def _pump(self, source: FrameSource, fps: float) -> bool:
        """Read until stop (False) or until a finite source ends (True)."""
        period = 1.0 / fps if (not source.live and fps > 0) else 0.0
        due = time.monotonic()
        while not self._stop.is_set():
            image = source.read()
            if image is None:
                return True
            self._publish(image)
            if period:
                due += period
                if self._stop.wait(max(0.0, due - time.monotonic())):
                    break
                if time.monotonic() - due > 1.0:  # fell far behind: do not try to catch up
                    due = time.monotonic()
        return False

    def _publish(self, raw: np.ndarray) -> None:
        image = as_bgr(raw)
        if image is None:
            self._invalid += 1
            if self._invalid in (1, 10, 100) or self._invalid % 1000 == 0:
                log.warning("camera %s: %d unusable frame(s) skipped (last: %s)",
                            self.camera_id, self._invalid, _describe_array(raw))
            return
        now = self._clock()
        with self._cond:
            if self._state != ONLINE:
                self._state, self._last_error = ONLINE, None
                log.info("camera %s online", self.camera_id)
            if self._latest is not None and self._latest.index != self._taken_index:
                self._dropped += 1
            self._received += 1
            self._latest = Frame(image, now, time.monotonic(), self._received)
            self._size = (image.shape[1], image.shape[0])
            self._arrivals.append(time.monotonic())
            self._cond.notify_all()

    def _set_state(self, state: str, error: str | None) -> None:
        with self._cond:
            self._state, self._last_error = state, error
            self._cond.notify_all()

    def wake(self) -> None:
        """Wake waiters in next_frame (used at shutdown)."""
        with self._cond:
            self._cond.notify_all()


def _describe_array(value: object) -> str:
    if isinstance(value, np.ndarray):
        return f"shape {value.shape}, {value.dtype}"
    return type(value).__name__
