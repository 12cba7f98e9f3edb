"""The MQTT publisher: one thread that owns the broker connection.

Nothing else ever waits for the broker. Ended sessions go into a bounded :class:`Outbox`;
state (availability, summary, viewer, camera statuses, discovery) is kept as the last value per
retained topic and published again on every connection. The thread runs paho-mqtt's network
loop itself (``loop_read``/``loop_write``/``loop_misc`` around one ``select``), so a session
handed over from another thread wakes it at once through a socket pair.

A connection that cannot be made is retried with capped exponential backoff and jitter; a
broker that refuses the login is retried only at the cap, so a wrong password is one clear
error in the log and the status, not a reconnect storm.
"""

from __future__ import annotations

import logging
import random
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from affectra_edge.config import DeviceConfig, MqttConfig
from affectra_edge.mqtt import discovery, errors, network
from affectra_edge.mqtt.errors import CONNECT_TIMEOUT_S, LOGIN_REFUSED
from affectra_edge.mqtt.outbox import Outbox
from affectra_edge.mqtt.payloads import (
    OFFLINE,
    ONLINE,
    Topics,
    session_payload,
    state_payload,
)

log = logging.getLogger(__name__)

POLL_S = 0.5  # how often live sources (viewers, camera states) are looked at
MAX_IN_FLIGHT = 20
GOOD_CONNECTION_S = 10.0  # a connection that lasted this long resets the backoff


@dataclass
class Sources:
    """Where the publisher reads what it publishes (all cheap, called from its thread)."""

    stats: Callable[[], dict]  # the statistics, as the web UI shows them
    viewers_now: Callable[[], int]
    camera_states: Callable[[], dict[str, str]]  # camera id -> online/offline/stalled/disabled
    # Cameras removed while the daemon runs; kept by the daemon across publisher restarts so
    # their entities stay marked for deletion in the retained discovery message.
    removed_cameras: set[str] = field(default_factory=set)


class MqttPublisher:
    def __init__(self, config: MqttConfig, device: DeviceConfig, password: str | None,
                 sources: Sources, version: str, outbox: Outbox | None = None,
                 clear_discovery: bool = False):
        self.config, self.device, self._password = config, device, password
        self._sources, self._version = sources, version
        self._clear_discovery = clear_discovery and not config.discovery
        self.topics = Topics(config.base_topic, device.id, config.discovery_prefix)
        self.outbox = outbox if outbox is not None else Outbox(config.max_pending_sessions)
        self.outbox.max_pending = config.max_pending_sessions
        self._stop = threading.Event()
        self._state_due = threading.Event()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._thread = threading.Thread(target=self._run, name="mqtt", daemon=True)
        self._lock = threading.Lock()
        self._status = {"state": "connecting", "last_error": None, "since": time.time(),
                        "connects": 0, "retry_in_s": None}
        # Per connection: the retained value per topic, and what this connection has sent.
        self._retained: dict[str, bytes] = {}
        self._published: dict[str, bytes] = {}
        self._cameras: set[str] = set()
        self._viewers = -1
        self._discovery_due = True
        self._connack: int | None = None
        self._connack_text = ""
        self._source_error = ""

    # -- called from other threads --------------------------------------------------------
    def start(self) -> None:
        log.info("MQTT: connecting to %s as %s (topics under %s/)", self.broker,
                 self.client_id, self.topics.root)
        self._thread.start()

    @property
    def broker(self) -> str:
        scheme = "mqtts" if self.config.tls else "mqtt"
        return f"{scheme}://{self.config.host}:{self.config.port}"

    @property
    def client_id(self) -> str:
        return f"affectra-{self.device.id}"

    def session_ended(self, record) -> None:
        """Queue the event for ``record`` (after its CSV row was written); never blocks."""
        self.outbox.add(record.session_id, session_payload(record))
        self._wake()  # the summary follows when the statistics are recomputed (state_changed)

    def state_changed(self) -> None:
        """The statistics changed: publish the summary soon."""
        self._state_due.set()
        self._wake()

    def status(self) -> dict:
        with self._lock:
            status = dict(self._status)
        status.update(broker=self.broker, pending_sessions=len(self.outbox),
                      sent_sessions=self.outbox.acknowledged,
                      dropped_sessions=self.outbox.dropped)
        return status

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout_s: float = 5.0) -> bool:
        """Say ``offline`` (retained) and disconnect cleanly; pending sessions stay queued.
        False if the thread did not end in time (a connection attempt still running)."""
        self._stop.set()
        self._wake()
        if self._thread.is_alive():
            self._thread.join(timeout_s)
        if self._thread.is_alive():
            log.warning("MQTT: the publisher did not stop within %g s", timeout_s)
            return False
        return True

    def _wake(self) -> None:
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass  # already awake (buffer full), or closed when the thread ended

    # -- the thread -----------------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._reconnect_forever()
        finally:
            self._wake_r.close()
            self._wake_w.close()

    def _reconnect_forever(self) -> None:
        failures = 0
        while not self._stop.is_set():
            started, refused = time.monotonic(), False
            try:
                client, refused = self._connect()
                if client is not None:
                    self._serve(client)
            except Exception:  # a bug or a broker paho cannot handle: never end the thread
                log.exception("MQTT: unexpected error; reconnecting")
                self.outbox.connection_lost()
                self._set_status("disconnected", "unexpected error (see the log)")
            if self._stop.is_set():
                break
            if time.monotonic() - started >= GOOD_CONNECTION_S:
                failures = 0
            failures += 1
            cap = self.config.reconnect_max_s
            delay = cap if refused else min(cap, 2 ** min(failures - 1, 12))
            delay *= random.uniform(0.7, 1.0)
            with self._lock:
                self._status["retry_in_s"] = round(delay, 1)
            self._stop.wait(delay)

    def _set_status(self, state: str, error: str | None = None) -> None:
        with self._lock:
            previous = self._status.get("last_error")
            if state != self._status["state"]:
                self._status["since"] = time.time()
            self._status.update(state=state, retry_in_s=None)
            if state == "connected":
                self._status["connects"] += 1
                self._status["last_error"] = None
            elif error:
                self._status["last_error"] = error
        if error and error != previous:
            log.error("MQTT: %s: %s", self.broker, error)

    def _connect(self) -> tuple[paho.Client | None, bool]:
        """A connected client, or (None, whether the broker refused the login)."""
        self._set_status("connecting")
        client = self._new_client()
        if isinstance(client, str):
            self._set_status("error", client)
            return None, False
        self._connack, self._connack_text = None, ""
        try:
            client.connect(self.config.host, self.config.port, self.config.keepalive_s)
            deadline = time.monotonic() + CONNECT_TIMEOUT_S
            while self._connack is None and time.monotonic() < deadline:
                if self._stop.is_set() or not self._pump(client, 0.2):
                    break
        except (OSError, ValueError) as exc:
            network.close(client)
            self._set_status("disconnected", errors.connect_problem(exc, self.config))
            return None, False
        if self._connack == 0 and not self._stop.is_set():
            self._set_status("connected")
            log.info("MQTT: connected to %s", self.broker)
            return client, False
        network.close(client)
        if self._stop.is_set():
            return None, False
        if self._connack is None:
            self._set_status("disconnected", f"{self.config.host}:{self.config.port} accepted "
                             f"the connection but did not answer the login; is it an MQTT "
                             f"port{' (without TLS?)' if not self.config.tls else ''}?")
            return None, False
        self._set_status("refused", errors.refused_problem(self._connack, self._connack_text))
        return None, self._connack in LOGIN_REFUSED

    def _new_client(self) -> paho.Client | str:
        config = self.config
        client = paho.Client(CallbackAPIVersion.VERSION2, client_id=self.client_id,
                             protocol=paho.MQTTv311, clean_session=True,
                             reconnect_on_failure=False)
        client.connect_timeout = CONNECT_TIMEOUT_S
        client.suppress_exceptions = False
        client.will_set(self.topics.availability, OFFLINE, qos=1, retain=True)
        if config.username:
            client.username_pw_set(config.username, self._password)
        if config.tls:
            problem = errors.tls_files_problem(config)
            if problem:
                return problem
            try:
                # A password-protected key would make OpenSSL ask on the terminal: refuse it.
                client.tls_set(ca_certs=config.ca_file or None,
                               certfile=config.client_cert or None,
                               keyfile=config.client_key or None,
                               cert_reqs=ssl.CERT_REQUIRED, keyfile_password=lambda: b"")
            except (OSError, ssl.SSLError, ValueError) as exc:
                return errors.tls_load_problem(exc, config)
        client.on_connect = self._on_connect
        client.on_publish = lambda _c, _u, mid, _rc, _p: self.outbox.acknowledged_by_broker(mid)
        client.on_message = self._on_message
        return client

    def _on_connect(self, client, _userdata, _flags, reason_code, _properties) -> None:
        self._connack = reason_code.value if hasattr(reason_code, "value") else int(reason_code)
        self._connack_text = str(reason_code).lower()

    def _on_message(self, _client, _userdata, message) -> None:
        if message.topic == self.topics.ha_status and message.payload == b"online":
            log.info("MQTT: Home Assistant came online; sending discovery and state again")
            self._discovery_due = True
            self._published.clear()

    def _serve(self, client: paho.Client) -> None:
        """Publish until the connection is lost or the publisher stops."""
        connected_at = time.monotonic()
        self._published.clear()
        self._discovery_due = True
        self.outbox.connection_lost()  # a new connection: send everything still pending
        dropped = self.outbox.take_drop_report()
        if dropped:
            log.warning("MQTT: %d ended session(s) were dropped from the queue while the "
                        "broker was unreachable; they are in the CSV files", dropped)
        client.subscribe(self.topics.ha_status, qos=1)
        self._set_retained(self.topics.availability, ONLINE.encode())
        if self._clear_discovery:  # discovery was turned off: Home Assistant drops the device
            self._set_retained(self.topics.discovery, b"")
            self._clear_discovery = False
        next_poll = next_summary = 0.0
        try:
            while not self._stop.is_set():
                now = time.monotonic()
                if now >= next_poll:
                    self._poll_sources()
                    next_poll = now + POLL_S
                if now >= next_summary or self._state_due.is_set():
                    self._update_summary()
                    next_summary = now + self.config.summary_interval_s
                self._flush(client)
                if not self._pump(client, min(next_poll, next_summary) - time.monotonic()):
                    self.outbox.connection_lost()
                    if not self._stop.is_set():
                        self._set_status("disconnected", errors.dropped_problem(
                            self.client_id, time.monotonic() - connected_at))
                    return
            self._say_goodbye(client)
        finally:
            network.close(client)

    def _say_goodbye(self, client: paho.Client) -> None:
        """Send the last state and what is queued (sessions closed at shutdown), then
        ``offline``; the broker keeps the retained values a subscriber finds afterwards."""
        deadline = time.monotonic() + 3.0
        self._poll_sources()
        self._update_summary()
        self._flush(client)
        while len(self.outbox) and time.monotonic() < deadline:
            self._flush(client)
            if not self._pump(client, 0.1):
                return
        info = client.publish(self.topics.availability, OFFLINE, qos=1, retain=True)
        while not info.is_published() and time.monotonic() < deadline + 1.0:
            if not self._pump(client, 0.1):
                break
        client.disconnect()
        self._pump(client, 0.0)  # write the DISCONNECT packet
        self._set_status("stopped")
        log.info("MQTT: disconnected from %s", self.broker)

    def _pump(self, client: paho.Client, timeout: float) -> bool:
        return network.pump(client, self._wake_r, timeout)

    def _read(self, what: str, read: Callable):
        """A source's value; None (and one log line) if it fails, so MQTT carries on."""
        try:
            return read()
        except Exception as exc:  # noqa: BLE001 - any failure: keep publishing
            if self._source_error != what:
                self._source_error = what
                log.warning("MQTT: cannot read the %s (%s); publishing the last value", what,
                            exc)
            return None

    def _update_summary(self) -> None:
        self._state_due.clear()
        stats = self._read("statistics", self._sources.stats)
        if stats is not None:
            self._set_retained(self.topics.state, state_payload(stats))  # sent even if same

    def _poll_sources(self) -> None:
        viewers = self._read("viewer count", self._sources.viewers_now)
        if viewers is not None:
            self._retained[self.topics.viewer] = b"ON" if viewers > 0 else b"OFF"
            if viewers != self._viewers:  # "viewers now" lives in the summary
                self._viewers = viewers
                self._state_due.set()
        states = self._read("camera states", self._sources.camera_states)
        if states is None:
            return
        for camera_id, state in states.items():
            self._retained[self.topics.camera_status(camera_id)] = state.encode()
        current, removed = set(states), self._sources.removed_cameras
        if current != self._cameras:
            for camera_id in self._cameras - current:
                # An empty retained message deletes the retained status.
                self._retained[self.topics.camera_status(camera_id)] = b""
            removed |= self._cameras - current
            removed -= current
            self._cameras = current
            self._discovery_due = True

    def _set_retained(self, topic: str, payload: bytes) -> None:
        self._retained[topic] = payload
        self._published.pop(topic, None)

    def _flush(self, client: paho.Client) -> None:
        if self._discovery_due and self.config.discovery:
            payload = discovery.device_payload(
                self.topics, self.device, sorted(self._cameras),
                sorted(self._sources.removed_cameras - self._cameras), self._version)
            self._set_retained(self.topics.discovery, payload)
        self._discovery_due = False
        first = (self.topics.availability, self.topics.discovery)  # entities before states
        ordered = sorted(self._retained.items(), key=lambda item: item[0] not in first)
        for topic, payload in ordered:
            if self._published.get(topic) != payload:
                client.publish(topic, payload, qos=1, retain=True)
                self._published[topic] = payload
                if payload == b"":
                    del self._retained[topic]
        for session_id, payload in self.outbox.next_unsent(MAX_IN_FLIGHT):
            info = client.publish(self.topics.session, payload, qos=1)
            if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                break
            self.outbox.sent(info.mid, session_id)

