"""Wiring and lifetime of the running sensor: start in order, supervise, stop in order.

Data flows one way: camera worker (latest frame only) -> analysis loop (detect, track,
classify, sessions) -> session writer (CSV). One stop event ends every loop.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime

from affectra_edge.cameras.factory import make_source
from affectra_edge.cameras.worker import CameraWorker
from affectra_edge.config import Config
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
    def __init__(self, config: Config, analyzer: Analyzer | None = None):
        self.config = config
        self.stop_event = threading.Event()
        self._analyzer = analyzer
        self._threads: list[threading.Thread] = []
        self._latest: FrameAnalysis | None = None
        self._analysis_times: list[float] = []
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
        self.worker = CameraWorker(camera.id, lambda: make_source(camera), self.stop_event,
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
        assert self.worker and self.sessions and self._analyzer
        min_period = 1.0 / self.config.vision.max_fps
        last = 0.0
        while not self.stop_event.is_set():
            frame = self.worker.next_frame(timeout_s=0.5)
            if frame is None:  # no frame: time still passes for absent viewers
                self._record(self.sessions.observe([], time.time()))
                continue
            if frame.timestamp - last < min_period:
                continue
            last = frame.timestamp
            try:
                analysis = self._analyzer.analyze(frame.image, frame.timestamp)
            except Exception:  # one bad frame must not stop the sensor
                log.exception("analysis of frame %d failed; skipping it", frame.index)
                continue
            self._latest = analysis
            self._analysis_times.append(time.monotonic())
            del self._analysis_times[:-30]
            self._record(self.sessions.observe(analysis.observations(), analysis.timestamp))

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

    def analysis_fps(self) -> float:
        times = self._analysis_times[-30:]
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
    def shutdown(self, timeout_s: float = 10.0) -> None:
        """Stop in order: camera, analyzer, close open sessions, drain the writer."""
        log.info("stopping")
        self.stop_event.set()
        deadline = time.monotonic() + timeout_s
        steps = [("camera worker", self._stop_worker), ("analyzer", self._join_threads),
                 ("open sessions", self._close_sessions), ("session writer", self._drain_writer)]
        for name, step in steps:
            try:
                step(max(0.5, deadline - time.monotonic()))
            except Exception:  # each step is isolated: the rest must still run
                log.exception("stopping the %s failed", name)
        log.info("stopped")

    def _stop_worker(self, timeout_s: float) -> None:
        if self.worker:
            self.worker.wake()
            if not self.worker.join(timeout_s):
                log.warning("camera worker did not stop in %.1f s", timeout_s)

    def _join_threads(self, timeout_s: float) -> None:
        for thread in self._threads:
            thread.join(timeout_s)
            if thread.is_alive():
                log.warning("%s thread did not stop in %.1f s", thread.name, timeout_s)

    def _close_sessions(self, _timeout_s: float) -> None:
        if self.sessions and self.writer:
            for record in self.sessions.close_all():
                log.info("session %s closed at shutdown after %.1f s", record.session_id[:8],
                         record.duration_s)
                self._count_today(record)
                self.writer.submit(record)

    def _drain_writer(self, timeout_s: float) -> None:
        if self.writer:
            self.writer.close(timeout_s)
