"""Wiring and lifetime of the running sensor: start in order, supervise, stop in order.

Data flows one way: per camera, worker (latest frame only) -> analyzer (detect, track,
classify, sessions); every camera's ended sessions -> one session writer (CSV). One stop
event ends the daemon; each camera pipeline also has its own, so cameras can change at run
time.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from affectra_edge import __version__, runtime_settings
from affectra_edge.cameras.base import FrameSource
from affectra_edge.cameras.factory import make_source
from affectra_edge.cameras.store import CameraStore
from affectra_edge.config import CameraConfig, Config
from affectra_edge.control import ControlServer, hold_state_dir
from affectra_edge.health import Watchdog, report, status_text
from affectra_edge.logs import under_systemd
from affectra_edge.mqtt.outbox import Outbox
from affectra_edge.mqtt.payloads import session_payload
from affectra_edge.notify import Notifier
from affectra_edge.pipeline import CameraPipeline
from affectra_edge.records import SessionRecord
from affectra_edge.security import SecretBox, SecretError, ensure_state_dir
from affectra_edge.sinks import SessionWriter
from affectra_edge.stats_cache import StatsCache
from affectra_edge.storage import SessionStore
from affectra_edge.supervisor import CameraSupervisor
from affectra_edge.vision.analyzer import Analyzer, build_analyzer

log = logging.getLogger(__name__)

HEARTBEAT_S = 60.0
PRUNE_EVERY_S = 3600.0
RUNNING_MARKER = "running"  # in the state dir while the daemon runs; gone after a clean stop


class WebError(Exception):
    """The web UI cannot be served (the port is taken, say)."""


class Daemon:
    def __init__(self, config: Config, analyzer_factory: Callable[[], Analyzer] | None = None,
                 source_factory: Callable[[CameraConfig], FrameSource] = make_source):
        self.config = config
        self.stop_event = threading.Event()
        self._analyzer_factory = analyzer_factory or (
            lambda: build_analyzer(config.vision, config.sessions.absence_timeout_s))
        self._source_factory = source_factory
        self._count_lock = threading.Lock()
        self._sessions_today = 0
        self._today = datetime.now(UTC).date()
        self.failure: str | None = None  # why the daemon stopped itself, if it did
        self.store: SessionStore | None = None
        self.writer: SessionWriter | None = None
        self.cameras: CameraStore | None = None
        self.stats: StatsCache | None = None
        self.web = None
        self.accounts = None
        self.web_assets: Path | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self.supervisor = CameraSupervisor(self._make_pipeline)
        self._spare_analyzer: Analyzer | None = None
        self.mqtt = None  # the MqttPublisher while MQTT is on
        self.mqtt_password: str | None = None
        self.mqtt_outbox = Outbox(config.mqtt.max_pending_sessions)  # survives reconnects
        self._mqtt_removed_cameras: set[str] = set()
        self._mqtt_lock = threading.Lock()
        self.notifier = Notifier()
        self._watchdog = Watchdog(self.notifier, self)
        self.started_at = time.time()
        self.control: ControlServer | None = None
        self._state_lock: int | None = None  # fd holding <state_dir>/daemon.lock

    # -- start -------------------------------------------------------------------------
    def start(self) -> None:
        """Start everything; raises (UnsafeStateDir, ModelError, ...) before any thread."""
        config = self.config
        ensure_state_dir(config.state_dir)
        self._state_lock = hold_state_dir(config.state_dir)  # one daemon per state dir
        self._mark_running()
        self.secrets = SecretBox(config.state_dir)
        self.mqtt_password = runtime_settings.load(config, self.secrets)
        self.store = SessionStore(config.sessions_dir, config.storage.retention_days)
        self.store.prune()
        self._sessions_today = len(self.store.read(start=self._today, end=self._today))
        # Load the models now, so a broken one fails the start with a clear message.
        self._spare_analyzer = self._analyzer_factory()
        self.stats = StatsCache(self.store, self.viewers_now, on_change=self._stats_changed)
        self.stats.start()
        self.writer = SessionWriter(self.store, on_written=self._session_written)
        self.writer.start()
        self.cameras = CameraStore(config.state_dir, self.secrets,
                                   fixed=config.cameras.sources,
                                   default_selected=config.cameras.active)
        cameras = self._runnable_cameras()
        self.supervisor.apply(cameras)
        self._unsubscribe = self.cameras.subscribe(self._cameras_changed)
        self._start_mqtt()
        if config.web.enabled:
            self._start_web()
        enabled = ", ".join(f"{c.id} ({c.kind})" for c in cameras if c.enabled) or "none"
        log.info("affectra started: device %s, cameras %s, %d sessions recorded today, "
                 "state in %s", config.device.id, enabled, self._sessions_today,
                 config.state_dir)
        self.control = ControlServer(config.state_dir, {"status": lambda: report(self),
                                                        "clear": self._clear_from_cli})
        self.control.start()
        self.notifier.ready(status_text(self))

    def clear_all(self, by: str) -> int:
        """Delete every recorded session (asked for from the web UI or the command line)."""
        assert self.store and self.stats
        removed = self.store.clear()
        self.stats.refresh_now()
        log.warning("all recorded data cleared (%d sessions) by %s", removed, by)
        return removed

    def _clear_from_cli(self) -> dict:
        return {"removed": self.clear_all("the command line")}

    def _mark_running(self) -> None:
        """Say why we (re)started if the last run did not stop cleanly, then mark this one."""
        marker = self.config.state_dir / RUNNING_MARKER
        try:
            previous = marker.read_text("utf-8").strip()
        except FileNotFoundError:
            previous = None
        except OSError as exc:
            previous = f"unreadable: {exc.strerror}"
        if previous is not None:
            log.warning("the previous run (%s) ended without a clean stop: it crashed, was "
                        "killed, or systemd's watchdog restarted it", previous)
        try:
            marker.write_text(f"pid {os.getpid()}, started "
                              f"{datetime.now(UTC).isoformat(timespec='seconds')}\n", "utf-8")
        except OSError as exc:
            log.warning("cannot write %s: %s", marker, exc.strerror)

    def _cameras_changed(self, _listed) -> None:
        """Restart what changed, off the caller's thread (a web request must not wait)."""
        threading.Thread(target=lambda: self.supervisor.apply(self._runnable_cameras()),
                         name="apply-cameras", daemon=True).start()

    def _start_web(self) -> None:
        from affectra_edge.webapp.app import create_app, default_assets_dir
        from affectra_edge.webapp.auth import Accounts, LoginLimiter, Sessions
        from affectra_edge.webapp.context import WebContext
        from affectra_edge.webapp.server import WebServer

        web = self.config.web
        accounts = self.accounts = Accounts(self.config.state_dir)
        assets = self.web_assets = (Path(web.assets_dir) if web.assets_dir
                                    else default_assets_dir())
        context = WebContext(self.config, self, accounts, Sessions(), LoginLimiter(), assets)
        try:
            self.web = WebServer(create_app(context), web.host, web.port, web.threads)
        except OSError as exc:
            raise WebError(f"cannot serve the web UI on {web.host}:{web.port}: "
                           f"{exc.strerror or exc}") from None
        self.web.start()
        if not accounts.has_password():
            accounts.announce_setup_code()

    # -- MQTT ----------------------------------------------------------------------------
    def _start_mqtt(self, clear_discovery: bool = False) -> None:
        from affectra_edge.mqtt.publisher import MqttPublisher, Sources

        mqtt = self.config.mqtt
        if not mqtt.active:
            log.info("MQTT: off (%s)", "no broker host set" if mqtt.enabled else "disabled")
            return
        assert self.stats
        sources = Sources(stats=self.stats.get, viewers_now=self.viewers_now,
                          camera_states=lambda: {s.camera_id: s.state
                                                 for s in self.supervisor.statuses()},
                          removed_cameras=self._mqtt_removed_cameras)
        # A copy: settings edited later must not reach this publisher while it stops.
        self.mqtt = MqttPublisher(dataclasses.replace(mqtt), self.config.device,
                                  self.mqtt_password, sources, __version__, self.mqtt_outbox,
                                  clear_discovery=clear_discovery)
        self.mqtt.start()

    def _restart_mqtt(self, clear_discovery: bool) -> None:
        """Reconnect with new settings (off the caller's thread); pending sessions carry over."""
        with self._mqtt_lock:
            old, self.mqtt = self.mqtt, None
            # Wait out a connection attempt (DNS, TCP, TLS): two clients with one client id
            # would keep pushing each other off the broker.
            if old is not None and not old.stop(timeout_s=20.0):
                log.error("MQTT: the old connection did not end; not reconnecting")
                return
            if not self.stop_event.is_set():
                self._start_mqtt(clear_discovery)

    def mqtt_status(self) -> dict:
        publisher = self.mqtt
        if publisher is not None:
            return publisher.status()
        mqtt = self.config.mqtt
        state = "off" if not mqtt.active else "connecting"
        return {"state": state, "last_error": None,
                "pending_sessions": len(self.mqtt_outbox) if mqtt.active else 0}

    def _session_written(self, record: SessionRecord) -> None:
        """A session's CSV row is on disk: update the statistics and tell the broker."""
        assert self.stats
        self.stats.invalidate()
        publisher = self.mqtt
        if publisher is not None:
            publisher.session_ended(record)
        elif self.config.mqtt.active:  # reconnecting with new settings: queue it meanwhile
            self.mqtt_outbox.add(record.session_id, session_payload(record))

    def _stats_changed(self) -> None:
        publisher = self.mqtt
        if publisher is not None:
            publisher.state_changed()

    # -- settings --------------------------------------------------------------------------
    def apply_settings(self, values: dict) -> None:
        """Save settings changed in the web UI and apply them to what runs (validated)."""
        values = {section: dict(names) for section, names in values.items()}
        new_password = values["mqtt"].pop(runtime_settings.PASSWORD, None)
        before = runtime_settings.current(self.config)["mqtt"]
        if new_password is not None:
            self.mqtt_password = new_password or None
        if not values["mqtt"]["username"]:
            self.mqtt_password = None
        runtime_settings.save(self.config, values, self.secrets, self.mqtt_password)
        if values["mqtt"] != before or new_password is not None:
            cleared = before["discovery"] and not values["mqtt"]["discovery"]
            threading.Thread(target=self._restart_mqtt, args=(cleared,), name="apply-mqtt",
                             daemon=True).start()
        assert self.store
        self.store.retention_days = self.config.storage.retention_days
        self.store.prune()
        for pipeline in self.supervisor.pipelines:
            pipeline.apply_session_settings(self.config.sessions)
        self.stats.invalidate()
        log.info("settings changed from the web UI: %s", values)  # no password in values

    def _runnable_cameras(self) -> list[CameraConfig]:
        """Every stored camera with its real URL; one whose secret cannot be read is skipped."""
        assert self.cameras
        cameras = []
        for stored in self.cameras.list():
            try:
                cameras.append(self.cameras.resolved(stored.id))
            except SecretError as exc:
                log.error("camera %s cannot be started: %s", stored.id, exc)
        return cameras

    def _make_pipeline(self, camera: CameraConfig) -> CameraPipeline:
        analyzer, self._spare_analyzer = self._spare_analyzer, None
        return CameraPipeline(camera, self.config, analyzer or self._analyzer_factory(),
                              self._source_factory, self._session_ended)

    def _session_ended(self, record: SessionRecord) -> None:
        with self._count_lock:
            today = datetime.now(UTC).date()
            if today != self._today:
                self._today, self._sessions_today = today, 0
            if record.ended_at.date() == today:
                self._sessions_today += 1
        assert self.writer
        self.writer.submit(record)

    # -- supervision -----------------------------------------------------------------------
    def run_until_stopped(self) -> None:
        """Log what the sensor sees while it runs; return when the stop event is set.

        In a terminal a status line comes every ``status_interval_s``; under systemd only
        when it changes (and once a minute), so the journal is not flooded.
        """
        interval = self.config.logging.status_interval_s
        heartbeat_s = HEARTBEAT_S if under_systemd() else interval
        last_line, last_logged, last_prune = "", 0.0, time.monotonic()
        ping = self.notifier.watchdog_interval_s
        wait = min(interval, ping / 2) if ping else interval
        last_status = 0.0
        while not self.stop_event.wait(wait):
            self._watchdog.tick()
            if time.monotonic() - last_status < interval - 0.01:
                continue
            last_status = time.monotonic()
            self.notifier.status(status_text(self))
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
        dead = self.supervisor.dead_thread()
        if self.writer and not self.writer.is_alive():
            dead = dead or "session-writer"
        if self.web and not self.web.is_alive():
            dead = dead or "web"
        publisher = self.mqtt
        if publisher is not None and not publisher.is_alive() and not self._mqtt_lock.locked():
            dead = dead or "mqtt"
        if dead and not self.stop_event.is_set():
            self.failure = f"the {dead} thread ended unexpectedly"
            log.error("%s; stopping", self.failure)
            self.stop_event.set()

    @property
    def sessions_today(self) -> int:
        return self._sessions_today

    def viewers_now(self) -> int:
        return sum(p.sessions.viewers_now for p in self.supervisor.pipelines)

    def status_line(self) -> str:
        parts = []
        for status in self.supervisor.statuses():
            pipeline = self.supervisor.pipeline(status.camera_id)
            text = f"{status.camera_id} {status.state}"
            if pipeline is not None and status.state == "online":
                text += (f" {pipeline.analysis_fps():.0f} fps, "
                         f"{pipeline.faces_in_view()} face(s)")
            elif status.last_error:
                text += f" ({status.last_error})"
            parts.append(text)
        cameras = "; ".join(parts) or "no camera"
        line = (f"cameras: {cameras} | {self.viewers_now()} viewer(s); "
                f"{self._sessions_today} session(s) today")
        if self.config.mqtt.active:
            line += f" | MQTT {self.mqtt_status()['state']}"
        return line

    # -- stop ------------------------------------------------------------------------------
    def _stop_mqtt(self) -> None:
        with self._mqtt_lock:
            publisher, self.mqtt = self.mqtt, None
        if publisher is not None:
            publisher.stop()

    def shutdown(self, writer_timeout_s: float = 10.0) -> None:
        """Stop in order, each step isolated from the others: the camera pipelines (each
        analyzer writes its open sessions as it ends; a camera stuck in its driver is left
        behind after a short wait), then the session writer, which writes what is queued."""
        log.info("stopping")
        self.notifier.stopping()
        self.stop_event.set()
        if self._unsubscribe:
            self._unsubscribe()  # camera changes from now on must not start pipelines
        steps = [("control socket", lambda: self.control and self.control.close()),
                 ("web server", lambda: self.web and self.web.close()),
                 ("camera pipelines", self.supervisor.stop_all),
                 ("session writer", lambda: self.writer and self.writer.close(writer_timeout_s)),
                 ("MQTT publisher", self._stop_mqtt),
                 ("statistics", lambda: self.stats and self.stats.stop())]
        for name, step in steps:
            try:
                step()
            except Exception:  # each step is isolated: the rest must still run
                log.exception("stopping the %s failed", name)
        if self._state_lock is not None:  # else the state dir (and its marker) is not ours
            self._leave_state_dir()
        log.info("stopped")

    def _leave_state_dir(self) -> None:
        """After a clean stop remove the running marker (the next start has nothing to
        explain); then let the next daemon have the state dir."""
        if self.failure is None:
            try:
                (self.config.state_dir / RUNNING_MARKER).unlink(missing_ok=True)
            except OSError as exc:
                log.warning("cannot remove the %s marker: %s", RUNNING_MARKER, exc.strerror)
        os.close(self._state_lock)
        self._state_lock = None
