"""One camera's pipeline: its worker (latest frame only), its analyzer thread and sessions.

Each pipeline has its own stop event, so a camera can be removed, disabled or changed while
the others go on. Ended sessions go to the shared session writer.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable

from affectra_edge.cameras.base import FrameSource, rate_per_s
from affectra_edge.cameras.worker import CameraStatus, CameraWorker
from affectra_edge.config import CameraConfig, Config, SessionsConfig
from affectra_edge.records import SessionRecord
from affectra_edge.sessions import SessionTracker, SessionUpdate
from affectra_edge.vision.analyzer import Analyzer, FrameAnalysis
from affectra_edge.vision.annotate import annotate, encode_jpeg

log = logging.getLogger(__name__)


class CameraPipeline:
    def __init__(self, camera: CameraConfig, config: Config, analyzer: Analyzer,
                 make_source: Callable[[CameraConfig], FrameSource],
                 on_session_end: Callable[[SessionRecord], None]):
        self.camera = camera
        self.stop_event = threading.Event()
        self._analyzer = analyzer
        self._on_session_end = on_session_end
        self._gate = RateGate(config.vision.max_fps)
        self.sessions = SessionTracker(
            camera.id, config.sessions.min_dwell_s, config.sessions.absence_timeout_s,
            config.vision.min_face_px, config.sessions.min_frames)
        self.worker = CameraWorker(camera.id, lambda: make_source(camera), self.stop_event,
                                   config.cameras.reconnect_max_s)
        self.latest: FrameAnalysis | None = None
        # The newest annotated frame as JPEG, for the live view: memory only, never on disk.
        self.live_jpeg: bytes | None = None
        self._live_period_s = 1.0 / config.web.live_fps
        self._last_live = 0.0
        self._analysis_times: deque[float] = deque(maxlen=30)
        self.frames_analysed = 0
        self.last_progress = time.monotonic()  # each turn of the analysis loop; the watchdog
        self._failures = 0
        self.thread = threading.Thread(target=self._run, name=f"analyzer-{camera.id}",
                                       daemon=True)

    # -- lifetime ------------------------------------------------------------------------
    def start(self) -> None:
        self.worker.start()
        self.thread.start()

    def request_stop(self) -> None:
        self.worker.stop()  # sets our stop event and wakes a blocked read

    def join_analyzer(self, timeout_s: float) -> bool:
        """Wait for the analyzer, which closes the open sessions as it ends."""
        self.thread.join(timeout_s)
        if self.thread.is_alive():
            log.error("camera %s: analyzer did not stop in %.1f s; its %d open session(s) "
                      "are not written", self.camera.id, timeout_s, self.sessions.viewers_now)
            return False
        return True

    def join_camera(self, timeout_s: float) -> bool:
        if not self.worker.join(timeout_s):
            log.warning("camera %s: worker did not stop in %.1f s (a read is stuck); "
                        "leaving it", self.camera.id, timeout_s)
            return False
        return True

    def dead_thread(self) -> str | None:
        """The name of a thread of ours that ended although we were not stopped."""
        if self.stop_event.is_set():
            return None
        if not self.thread.is_alive():
            return self.thread.name
        if not self.worker.is_alive() and not self.worker.ended.is_set():
            return f"camera-{self.camera.id}"
        return None

    def stuck_for_s(self) -> float:
        """Seconds since the analysis loop last came round (0 once stopping)."""
        return 0.0 if self.stop_event.is_set() else time.monotonic() - self.last_progress

    def apply_session_settings(self, sessions: SessionsConfig) -> None:
        """New timeouts for this camera's viewers, from their next frame on."""
        self.sessions.min_dwell_s = sessions.min_dwell_s
        self.sessions.absence_timeout_s = sessions.absence_timeout_s
        self.sessions.min_frames = max(1, sessions.min_frames)
        self._analyzer.tracker.max_missed_s = sessions.absence_timeout_s

    # -- status --------------------------------------------------------------------------
    def status(self) -> CameraStatus:
        return self.worker.status()

    def analysis_fps(self) -> float:
        return rate_per_s(list(self._analysis_times), time.monotonic(), stale_after_s=2.0)

    def faces_in_view(self) -> int:
        latest = self.latest
        if latest is None or time.monotonic() - latest.timestamp > 2.0:
            return 0
        return len(latest.faces)

    # -- the analysis loop ---------------------------------------------------------------
    def _run(self) -> None:
        """Analyse frames until stop; then close the open sessions, in this same thread."""
        try:
            while not self.stop_event.is_set():
                try:
                    _test_wedge(self.stop_event)
                    self._analyse_next()
                except Exception:  # one bad frame must not stop the sensor
                    self._failures += 1
                    if self._failures in (1, 10, 100) or self._failures % 1000 == 0:
                        log.exception("camera %s: analysis failed (%d time(s) so far); "
                                      "going on", self.camera.id, self._failures)
                self.last_progress = time.monotonic()
        finally:
            for record in self.sessions.close_all():
                log.info("session %s closed at shutdown after %.1f s", record.session_id[:8],
                         record.duration_s)
                self._on_session_end(record)

    def _analyse_next(self) -> None:
        frame = self.worker.next_frame(timeout_s=0.5)
        if frame is None:  # no frame: time still passes for absent viewers
            self._report(self.sessions.observe([], time.monotonic(), time.time()))
            return
        if not self._gate.admit(frame.monotonic):
            return
        analysis = self._analyzer.analyze(frame.image, frame.monotonic)
        self.latest = analysis
        if frame.monotonic - self._last_live >= self._live_period_s:
            self._last_live = frame.monotonic
            self.live_jpeg = encode_jpeg(annotate(frame.image, analysis.faces))
        self._analysis_times.append(time.monotonic())
        self.frames_analysed += 1
        self._report(self.sessions.observe(analysis.observations(), frame.monotonic,
                                           frame.timestamp))

    def _report(self, update: SessionUpdate) -> None:
        for session_id in update.started:
            log.info("camera %s: session %s started", self.camera.id, session_id[:8])
        for record in update.ended:
            log.info("camera %s: session %s ended after %.1f s, mostly %s (%.0f %%)",
                     self.camera.id, record.session_id[:8], record.duration_s,
                     record.dominant_emotion, record.shares[record.dominant_emotion])
            self._on_session_end(record)


def _test_wedge(stop_event: threading.Event) -> None:
    """Test hook: while the file named by $AFFECTRA_TEST_WEDGE_FILE exists, the analyzer hangs
    (as a stuck driver or a deadlock would), so the watchdog can be tested for real."""
    path = os.environ.get("AFFECTRA_TEST_WEDGE_FILE")
    while path and os.path.exists(path) and not stop_event.wait(0.2):
        pass


class RateGate:
    """Admits at most ``max_per_s`` events per second on average, by schedule.

    Each admitted event moves the next due time one period on from the previous due time
    (not from the event), and an event up to a quarter period early is admitted: a camera
    that delivers exactly ``max_per_s`` with jitter loses no frame, and a faster one is
    thinned to the rate. Falling behind earns no burst beyond that quarter period.
    """

    def __init__(self, max_per_s: float):
        self.period = 1.0 / max_per_s
        self._tolerance = self.period / 4
        self._due = float("-inf")

    def admit(self, when: float) -> bool:
        if when < self._due - self._tolerance:
            return False
        self._due = max(self._due, when - self._tolerance) + self.period
        return True
