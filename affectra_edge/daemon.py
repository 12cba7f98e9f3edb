"""Wiring and lifetime of the running sensor: start in order, supervise, stop in order.

Data flows one way: camera worker (latest frame only) -> analysis loop (detect, track,
classify, sessions) -> session writer (CSV). One stop event ends every loop.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime

from affectra_edge.cameras.factory import make_source
from affectra_edge.cameras.worker import CameraWorker
from affectra_edge.cameras.base import FrameSource
from affectra_edge.config import CameraConfig, Config
from affectra_edge.logs import under_systemd
from affectra_edge.security import ensure_state_dir
from affectra_edge.sessions import SessionTracker
from affectra_edge.sinks import SessionWriter
from affectra_edge.storage import SessionStore
from affectra_edge.vision.analyzer import Analyzer, FrameAnalysis, build_analyzer

log = logging.getLogger(__name__)

HEARTBEAT_S = 60.0
PRUNE_EVERY_S = 3600.0


class Daemon:
    def __init__(self, config: Config, analyzer: Analyzer | None = None,
                 source_factory: Callable[[CameraConfig], FrameSource] = make_source):
        self.config = config
        self._source_factory = source_factory
        self.stop_event = threading.Event()
        self._analyzer = analyzer
        self._threads: list[threading.Thread] = []
        self._latest: FrameAnalysis | None = None
        self._analysis_times: deque[float] = deque(maxlen=30)
        self._analysis_failures = 0
        self._last_analysed = 0.0
        self._min_period_s = 1.0 / config.vision.max_fps
        self.failure: str | None = None  # why the daemon stopped itself, if it did
        self._sessions_today = 0
        self._today = datetime.now(UTC).date()
        self.worker: CameraWorker | None = None
        self.sessions: SessionTracker | None = None
        self.writer: SessionWriter | None = None
        self.store: SessionStore | None = None

    # -- start -------------------------------------------------------------------------
    def start(self) -> None:
        """Start everything; raises (ConfigError, UnsafeStateDir, ModelError) before any thread."""
        config = self.config
        ensure_state_dir(config.state_dir)
        self.store = SessionStore(config.sessions_dir, config.storage.retention_days)
        self.store.prune()
        self._sessions_today = len(self.store.read(start=self._today, end=self._today))
        camera = config.camera(config.cameras.active)
        if camera is None:
            raise ValueError(f"no camera with id {config.cameras.active!r}")
        if self._analyzer is None:
            self._analyzer = build_analyzer(config.vision, config.sessions.absence_timeout_s)
        self.sessions = SessionTracker(
            camera.id, config.sessions.min_dwell_s, config.sessions.absence_timeout_s,
            config.vision.min_face_px, config.sessions.min_frames)
        self.writer = SessionWriter(self.store)
        self.worker = CameraWorker(camera.id, lambda: self._source_factory(camera), self.stop_event,
                                   config.cameras.reconnect_max_s)
        self.writer.start()
        self.worker.start()
        thread = threading.Thread(target=self._analysis_loop, name="analyzer", daemon=True)
        thread.start()
        self._threads.append(thread)
        log.info("affectra started: device %s, camera %s (%s), %d sessions recorded today, "
                 "state in %s", config.device.id, camera.id, camera.kind, self._sessions_today,
                 config.state_dir)

    # -- the analysis loop ---------------------------------------------------------------
    def _analysis_loop(self) -> None:
        """Analyse frames until stop; then close the open sessions, in this same thread."""
        try:
            while not self.stop_event.is_set():
                try:
                    self._analyse_next()
                except Exception:  # one bad frame must not stop the sensor
                    self._analysis_failures += 1
                    if self._analysis_failures in (1, 10, 100) or \
                            self._analysis_failures % 1000 == 0:
                        log.exception("analysis failed (%d time(s) so far); going on",
                                      self._analysis_failures)
        finally:
            self._close_sessions()

    def _analyse_next(self) -> None:
        assert self.worker and self.sessions and self._analyzer
        frame = self.worker.next_frame(timeout_s=0.5)
        if frame is None:  # no frame: time still passes for absent viewers
            self._record(self.sessions.observe([], time.monotonic(), time.time()))
            return
        if frame.monotonic - self._last_analysed < self._min_period_s:
            return
        self._last_analysed = frame.monotonic
        analysis = self._analyzer.analyze(frame.image, frame.monotonic)
        self._latest = analysis
        self._analysis_times.append(time.monotonic())
        self._record(self.sessions.observe(analysis.observations(), frame.monotonic,
                                           frame.timestamp))

    def _record(self, update) -> None:
        assert self.writer
        for session_id in update.started:
            log.info("session %s started", session_id[:8])
        for record in update.ended:
            log.info("session %s ended after %.1f s, mostly %s (%.0f %%)", record.session_id[:8],
                     record.duration_s, record.dominant_emotion,
                     record.shares[record.dominant_emotion])
            self._count_today(record)
            self.writer.submit(record)

    def _count_today(self, record) -> None:
        today = datetime.now(UTC).date()
        if today != self._today:
            self._today, self._sessions_today = today, 0
        if record.ended_at.date() == today:
            self._sessions_today += 1

    # -- supervision -----------------------------------------------------------------------
    def run_until_stopped(self) -> None:
        """Log what the sensor sees while it runs; return when the stop event is set.

        In a terminal a status line comes every ``status_interval_s``; under systemd only
        when it changes (and once a minute), so the journal is not flooded.
        """
        interval = self.config.logging.status_interval_s
        heartbeat_s = HEARTBEAT_S if under_systemd() else interval
        last_line, last_logged, last_prune = "", 0.0, time.monotonic()
        while not self.stop_event.wait(interval):
            line = self.status_line()
            now = time.monotonic()
            if line != last_line or now - last_logged >= heartbeat_s - 0.05:
                log.info("%s", line)
                last_line, last_logged = line, now
            if now - last_prune >= PRUNE_EVERY_S and self.store:
                self.store.prune()
                last_prune = now
            self._check_threads()

    def _check_threads(self) -> None:
        """A thread that ended on its own is a bug: stop, so systemd restarts us cleanly."""
        threads = [*self._threads]
        if self.worker and not self.worker.ended.is_set():
            threads.append(self.worker._thread)
        for thread in threads:
            if not thread.is_alive() and not self.stop_event.is_set():
                self.failure = f"the {thread.name} thread ended unexpectedly"
                log.error("%s; stopping", self.failure)
                self.stop_event.set()

    def analysis_fps(self) -> float:
        times = list(self._analysis_times)
        if len(times) < 2 or times[-1] <= times[0] or time.monotonic() - times[-1] > 2:
            return 0.0
        return (len(times) - 1) / (times[-1] - times[0])

    def status_line(self) -> str:
        status = self.worker.status() if self.worker else None
        faces = len(self._latest.faces) if self._latest else 0
        viewers = self.sessions.viewers_now if self.sessions else 0
        camera = "no camera" if status is None else (
            f"camera {status.camera_id} {status.state}"
            + (f" ({status.last_error})" if status.last_error else ""))
        return (f"{camera}; analysing {self.analysis_fps():.0f} fps; {faces} face(s) in view; "
                f"{viewers} viewer(s); {self._sessions_today} session(s) today")

    # -- stop ------------------------------------------------------------------------------
    def shutdown(self, analyzer_timeout_s: float = 5.0, writer_timeout_s: float = 10.0,
                 camera_timeout_s: float = 2.0) -> None:
        """Stop in order, each step with its own time limit and isolated from the others:
        the analyzer (which closes the open sessions as it ends), the session writer (which
        writes what is queued), then the camera, whose read may be stuck in a driver."""
        log.info("stopping")
        self.stop_event.set()
        steps = [("analyzer", lambda: self._stop_analyzer(analyzer_timeout_s)),
                 ("session writer", lambda: self._drain_writer(writer_timeout_s)),
                 ("camera worker", lambda: self._stop_worker(camera_timeout_s))]
        for name, step in steps:
            try:
                step()
            except Exception:  # each step is isolated: the rest must still run
                log.exception("stopping the %s failed", name)
        log.info("stopped")

    def _stop_analyzer(self, timeout_s: float) -> None:
        if self.worker:
            self.worker.wake()
        for thread in self._threads:
            thread.join(timeout_s)
            if thread.is_alive():
                log.error("%s thread did not stop in %.1f s; its %d open session(s) are not "
                          "written", thread.name, timeout_s,
                          self.sessions.viewers_now if self.sessions else 0)

    def _close_sessions(self) -> None:
        if self.sessions and self.writer:
            for record in self.sessions.close_all():
                log.info("session %s closed at shutdown after %.1f s", record.session_id[:8],
                         record.duration_s)
                self._count_today(record)
                self.writer.submit(record)

    def _drain_writer(self, timeout_s: float) -> None:
        if self.writer:
            self.writer.close(timeout_s)

    def _stop_worker(self, timeout_s: float) -> None:
        if self.worker and not self.worker.join(timeout_s):
            log.warning("camera worker did not stop in %.1f s (a read is stuck); leaving it",
                        timeout_s)
