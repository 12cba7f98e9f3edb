"""The MQTT parts on their own: outbox bounds, payloads, a publisher with no broker, camera
removal and the settings page's MQTT fields (with a real Mosquitto where a broker is needed).
"""

from __future__ import annotations

import json
import signal
import socket
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from affectra_edge.cameras.scene import Appearance
from affectra_edge.config import (
    CameraConfig,
    DeviceConfig,
    MqttConfig,
    config_from_dict,
)
from affectra_edge.daemon import Daemon
from affectra_edge.emotions import EMOTIONS
from affectra_edge.mqtt.outbox import Outbox
from affectra_edge.mqtt.payloads import session_payload
from affectra_edge.mqtt.publisher import MqttPublisher, Sources
from affectra_edge.records import SessionRecord
from affectra_edge.storage import COLUMNS, format_row
from tests.conftest import wait_until, write_video
from tests.mqtt_broker import Broker, Recorder, free_port
from tests.webclient import WebClient

ADMIN_PASSWORD = "a long admin password"


def make_record(index: int = 0) -> SessionRecord:
    ended = datetime(2026, 11, 25, 10, 0, tzinfo=UTC) + timedelta(seconds=index)
    shares = {e: 0.0 for e in EMOTIONS}
    shares.update(happy=66.67, neutral=33.33)
    return SessionRecord(f"{index:08x}", "door", ended - timedelta(seconds=3.2), ended, 3.2,
                         31, "happy", shares)


def test_outbox_keeps_the_newest_and_counts_what_it_drops():
    outbox = Outbox(max_pending=3)
    for i in range(5):
        outbox.add(f"s{i}", b"x")
    assert len(outbox) == 3 and outbox.dropped == 2
    assert [sid for sid, _ in outbox.next_unsent(10)] == ["s2", "s3", "s4"]
    assert outbox.take_drop_report() == 2 and outbox.take_drop_report() == 0


def test_outbox_forgets_only_what_the_broker_acknowledged():
    outbox = Outbox(max_pending=10)
    for i in range(3):
        outbox.add(f"s{i}", b"x")
    for mid, (sid, _) in enumerate(outbox.next_unsent(2), start=1):
        outbox.sent(mid, sid)
    assert [sid for sid, _ in outbox.next_unsent(3)] == ["s2"]  # two in flight, room for one
    outbox.acknowledged_by_broker(1)
    outbox.connection_lost()  # s1 was in flight: it goes again
    assert [sid for sid, _ in outbox.next_unsent(10)] == ["s1", "s2"]
    assert outbox.acknowledged == 1


def test_a_session_event_is_its_csv_row():
    record = make_record(7)
    event = json.loads(session_payload(record))
    row = format_row(record).rstrip("\n").split(",")
    assert list(event) == list(COLUMNS)
    assert [str(event[c]) if c in ("frames",) else event[c] for c in COLUMNS[:4]] == row[:4]
    assert f"{event['duration_s']:.3f}" == row[4] and str(event["frames"]) == row[5]
    assert [f"{event[e]:.2f}" for e in EMOTIONS] == row[7:]


def no_sources() -> Sources:
    return Sources(stats=dict, viewers_now=lambda: 0, camera_states=dict)


def first_error(config: MqttConfig, before_wait=lambda publisher: None) -> dict:
    """Run a publisher until it reports an error; its status then (it is stopped after)."""
    publisher = MqttPublisher(config, DeviceConfig(id="unit"), None, no_sources(), "test")
    publisher.start()
    try:
        before_wait(publisher)
        return wait_until(lambda: (s := publisher.status())["last_error"] and s, 15,
                          "the publisher to report an error")
    finally:
        publisher.stop()
        assert not publisher.is_alive()


def test_without_a_broker_sessions_queue_up_and_nothing_waits():
    port = free_port()  # nothing listens here
    config = MqttConfig(host="127.0.0.1", port=port, reconnect_max_s=1,
                        max_pending_sessions=50)

    def flood(publisher):  # far more than the queue holds; returns at once every time
        for i in range(500):
            publisher.session_ended(make_record(i))

    status = first_error(config, flood)
    assert f"connection refused by 127.0.0.1:{port}" in status["last_error"]
    assert status["state"] in ("disconnected", "connecting")
    assert status["pending_sessions"] == 50 and status["dropped_sessions"] == 450


def test_tls_problems_are_named(tmp_path):
    config = MqttConfig(host="127.0.0.1", port=free_port(), tls=True,
                        ca_file=str(tmp_path / "missing-ca.pem"))
    assert "missing-ca.pem" in first_error(config)["last_error"]


@pytest.fixture
def broker(tmp_path):
    running = Broker(tmp_path / "broker").start()
    yield running
    running.stop()


def in_process_daemon(tmp_path: Path, mqtt: dict, cameras: list[dict]) -> Daemon:
    state = tmp_path / "state"
    state.mkdir(mode=0o750)
    config = config_from_dict({
        "device": {"id": "lobby"},
        "cameras": {"active": cameras[0]["id"], "sources": cameras, "reconnect_max_s": 1},
        "storage": {"state_dir": str(state)},
        "web": {"host": "127.0.0.1", "port": 0}, "mqtt": mqtt})
    daemon = Daemon(config)
    daemon.start()
    return daemon


def test_removing_a_camera_removes_its_entity_and_status(tmp_path, broker):
    daemon = in_process_daemon(tmp_path, {"host": "127.0.0.1", "port": broker.port},
                               [{"id": "main", "kind": "demo"}])
    recorder = Recorder(broker)
    topic = "homeassistant/device/affectra_lobby/config"
    try:
        daemon.cameras.add(CameraConfig(id="side", kind="demo"))
        recorder.wait_for(topic, lambda m: "camera_side_status" in json.loads(m.payload)["cmps"])
        recorder.wait_for("affectra/lobby/camera/side/status", lambda m: m.payload == b"online")
        daemon.cameras.remove("side")
        (gone,) = recorder.wait_for(
            topic, lambda m: json.loads(m.payload)["cmps"].get("camera_side_status")
            == {"p": "sensor"})
        assert "camera_main_status" in json.loads(gone.payload)["cmps"]
        # The retained status is deleted (an empty retained message).
        recorder.wait_for("affectra/lobby/camera/side/status", lambda m: m.payload == b"")
    finally:
        daemon.shutdown()
        recorder.close()
    late = Recorder(broker)
    late.wait_for("affectra/lobby/camera/main/status")
    assert late.on("affectra/lobby/camera/side/status") == []
    # The retained discovery keeps the removal, so a Home Assistant that was offline at the
    # time still deletes the entity when it comes back.
    retained = json.loads(late.wait_for(topic)[-1].payload)
    assert retained["cmps"]["camera_side_status"] == {"p": "sensor"}
    assert "camera_main_status" in retained["cmps"]
    late.close()


def logged_in(daemon: Daemon) -> WebClient:
    daemon.accounts.set_password(ADMIN_PASSWORD)
    client = WebClient(daemon.web.port)
    token = client.form_token("/login")
    assert client.form("/login", {"csrf_token": token, "password": ADMIN_PASSWORD}).status == 303
    client.page_csrf("/")
    return client


def test_settings_page_connects_keeps_the_password_encrypted_and_shows_errors(tmp_path, broker):
    daemon = in_process_daemon(tmp_path, {}, [{"id": "main", "kind": "demo"}])
    try:
        admin = logged_in(daemon)
        assert admin.get("/api/mqtt").json()["state"] == "off"
        closed_port = free_port()
        reply = admin.post_json("/api/settings", {"mqtt": {"host": "127.0.0.1",
                                                           "port": closed_port}})
        assert reply.status == 200, reply.text
        status = wait_until(lambda: (s := admin.get("/api/mqtt").json())["last_error"] and s,
                            15, "the refused connection in the MQTT status")
        assert "connection refused" in status["last_error"] and str(closed_port) in \
            status["last_error"]
        reply = admin.post_json("/api/settings", {"mqtt": {
            "port": broker.port, "username": "sensor", "password": "s3cret-mqtt-pass"}})
        assert reply.status == 200, reply.text
        assert reply.json()["mqtt"]["password_set"] is True
        assert "s3cret" not in reply.text and "s3cret" not in admin.get("/api/settings").text
        wait_until(lambda: admin.get("/api/mqtt").json()["state"] == "connected", 15,
                   "the publisher to connect to the new broker")
        stored = (daemon.config.state_dir / "settings.json").read_text()
        assert "s3cret" not in stored and json.loads(stored)["mqtt"]["password_encrypted"]
        # Clearing the user name forgets the password.
        reply = admin.post_json("/api/settings", {"mqtt": {"username": ""}})
        assert reply.json()["mqtt"]["password_set"] is False
        assert "password_encrypted" not in (daemon.config.state_dir / "settings.json").read_text()
    finally:
        daemon.shutdown()


def test_a_host_that_does_not_resolve_is_named():
    with pytest.raises(OSError):
        socket.getaddrinfo("no-such-broker.invalid", 1883)
    status = first_error(MqttConfig(host="no-such-broker.invalid", port=1883))
    assert "cannot resolve the broker's host name 'no-such-broker.invalid'" in \
        status["last_error"]


def test_a_broker_certificate_from_another_ca_is_refused_with_a_reason(tmp_path):
    from tests.mqtt_broker import make_tls_files

    broker = Broker(tmp_path / "broker", tls=make_tls_files(tmp_path / "tls")).start()
    other_ca = make_tls_files(tmp_path / "other").ca
    try:
        status = first_error(MqttConfig(host="127.0.0.1", port=broker.port, tls=True,
                                        ca_file=str(other_ca)))
    finally:
        broker.stop()
    assert "TLS: the broker's certificate was not accepted" in status["last_error"]
    assert status["state"] != "connected"


def test_sessions_queued_for_a_wrong_broker_arrive_once_the_settings_are_fixed(tmp_path,
                                                                              broker):
    daemon = in_process_daemon(tmp_path, {"host": "127.0.0.1", "port": free_port(),
                                          "reconnect_max_s": 1},
                               [{"id": "main", "kind": "demo"}])
    recorder = Recorder(broker, "affectra/lobby/#")
    try:
        admin = logged_in(daemon)
        wait_until(lambda: "connection refused" in (admin.get("/api/mqtt").json()
                                                    ["last_error"] or ""), 15,
                   "the refused connection in the MQTT status")
        records = [make_record(100 + i) for i in range(5)]
        for record in records:  # as the session tracker hands them over
            daemon._session_ended(record)
        wait_until(lambda: admin.get("/api/mqtt").json()["pending_sessions"] == 5, 15,
                   "five sessions waiting for the broker")
        reply = admin.post_json("/api/settings", {"mqtt": {"port": broker.port,
                                                           "discovery": False}})
        assert reply.status == 200, reply.text
        wanted = {r.session_id for r in records}
        wait_until(lambda: wanted <= {json.loads(m.payload)["session_id"]
                                      for m in recorder.on("affectra/lobby/session")}, 20,
                   "the queued sessions to reach the right broker")
        # The broker forwards a message and acknowledges it at about the same moment: the
        # subscriber may see it before the publisher's outbox hears the PUBACK.
        wait_until(lambda: admin.get("/api/mqtt").json()["pending_sessions"] == 0, 10,
                   "the broker's acknowledgements to empty the outbox")
    finally:
        daemon.shutdown()
        recorder.close()


def test_turning_discovery_off_removes_the_device_from_home_assistant(tmp_path, broker):
    daemon = in_process_daemon(tmp_path, {"host": "127.0.0.1", "port": broker.port},
                               [{"id": "main", "kind": "demo"}])
    topic = "homeassistant/device/affectra_lobby/config"
    recorder = Recorder(broker, topic)
    try:
        recorder.wait_for(topic, lambda m: m.payload.startswith(b"{"))
        admin = logged_in(daemon)
        assert admin.post_json("/api/settings", {"mqtt": {"discovery": False}}).status == 200
        recorder.wait_for(topic, lambda m: m.payload == b"")  # clears the retained config
    finally:
        daemon.shutdown()
        recorder.close()
    late = Recorder(broker, topic)
    time.sleep(1.0)  # a retained config would arrive at once
    assert late.on(topic) == []
    late.close()


def test_a_frozen_broker_stalls_neither_the_camera_nor_the_csv(tmp_path, broker):
    """SIGSTOP: the broker keeps the TCP connection but answers nothing, like a hung box."""
    video = write_video(tmp_path / "viewer.avi", [Appearance(0.3, 2.3, 0.5, 0.5, 150)], 4.0,
                        fps=10)
    daemon = in_process_daemon(
        tmp_path, {"host": "127.0.0.1", "port": broker.port},
        [{"id": "main", "kind": "file", "source": str(video), "loop": True}])
    daemon.config.sessions.min_dwell_s, daemon.config.sessions.absence_timeout_s = 1.0, 0.8
    for pipeline in daemon.supervisor.pipelines:
        pipeline.apply_session_settings(daemon.config.sessions)
    recorder = Recorder(broker, "affectra/lobby/session")
    try:
        recorder.wait_for("affectra/lobby/session", timeout_s=30)
        pipeline = daemon.supervisor.pipeline("main")
        frames, written = pipeline.frames_analysed, daemon.writer.written
        broker.process.send_signal(signal.SIGSTOP)
        try:
            wait_until(lambda: daemon.writer.written >= written + 2, 30,
                       "two sessions written to the CSV while the broker is frozen")
            assert pipeline.frames_analysed > frames + 20
        finally:
            broker.process.send_signal(signal.SIGCONT)
        stored = {r.session_id for r in daemon.store.read()}
        wait_until(lambda: stored <= {json.loads(m.payload)["session_id"]
                                      for m in recorder.on("affectra/lobby/session")}, 30,
                   "every stored session to reach the subscriber after the thaw")
    finally:
        daemon.shutdown()
        recorder.close()
