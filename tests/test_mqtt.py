"""MQTT with a real Mosquitto: `affectra run` processes publish to it, a subscriber checks.

Every broker here is Debian's mosquitto, started on a free loopback port with its own config
(tests/mqtt_broker.py); the daemons are real `affectra run` processes reading a video made from
real photos, in which a viewer comes and goes every 4 seconds.
"""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest

from affectra_edge.runtime_settings import current, save
from affectra_edge.security import SecretBox
from affectra_edge.storage import COLUMNS, SessionStore
from affectra_edge.cameras.scene import Appearance
from tests.conftest import wait_until, write_video
from tests.daemon_process import DaemonProcess
from tests.mqtt_broker import Broker, Recorder, make_tls_files

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    """4 s, looped: a viewer from 0.3 s to 2.3 s, so a session ends about every 4 s."""
    path = tmp_path_factory.mktemp("video") / "viewer.avi"
    return write_video(path, [Appearance(0.3, 2.3, 0.5, 0.5, 150)], 4.0, fps=10)


@pytest.fixture
def broker(tmp_path):
    running = Broker(tmp_path / "broker").start()
    yield running
    running.stop()


def write_config(directory: Path, video: Path, broker: Broker, device_id: str = "hall",
                 **mqtt: object) -> Path:
    settings = {"host": "127.0.0.1", "port": broker.port, "reconnect_max_s": 2,
                "summary_interval_s": 5, **mqtt}
    lines = "\n".join(f"{k} = {json.dumps(v)}" for k, v in settings.items())
    path = directory / f"{device_id}.toml"
    path.write_text(f"""
[device]
id = "{device_id}"
name = "Hall {device_id}"
[cameras]
active = "door"
[[cameras.sources]]
id = "door"
kind = "file"
source = "{video}"
loop = true
fps = 10
[sessions]
min_dwell_s = 1.0
absence_timeout_s = 0.8
min_frames = 3
[web]
host = "127.0.0.1"
port = 0
[logging]
status_interval_s = 0.5
[mqtt]
{lines}
""")
    return path


def start_daemon(tmp_path: Path, config: Path, name: str = "state") -> tuple[DaemonProcess, Path]:
    state = tmp_path / name
    state.mkdir(mode=0o750, exist_ok=True)
    return DaemonProcess(config, state), state


def csv_row_as_event(record) -> dict:
    """The CSV row of ``record`` with the types the ``session`` event uses."""
    from affectra_edge.storage import format_row
    fields = format_row(record).rstrip("\n").split(",")
    row = dict(zip(COLUMNS, fields, strict=True))
    return {k: (v if k in {"session_id", "camera_id", "started_at", "ended_at",
                           "dominant_emotion"} else int(v) if k == "frames" else float(v))
            for k, v in row.items()}


def test_retained_state_discovery_and_session_events_match_the_csv(tmp_path, video, broker):
    live = Recorder(broker, "affectra/hall/session")  # subscribed before the daemon starts
    daemon, state = start_daemon(tmp_path, write_config(tmp_path, video, broker))
    try:
        daemon.wait_for("MQTT: connected", timeout_s=60)
        live.wait_for("affectra/hall/session", count=2, timeout_s=30)
        # A subscriber arriving now gets the retained topics at once.
        late = Recorder(broker)
        for topic in ["affectra/hall/availability", "affectra/hall/state",
                      "affectra/hall/viewer", "affectra/hall/camera/door/status",
                      "homeassistant/device/affectra_hall/config"]:
            (message,) = late.wait_for(topic, timeout_s=5)
            assert message.retain, topic
        assert late.on("affectra/hall/availability")[0].payload == b"online"
        assert late.on("affectra/hall/camera/door/status")[0].payload == b"online"
        assert late.on("affectra/hall/viewer")[0].payload in (b"ON", b"OFF")
        assert not any(m.retain for m in late.on("affectra/hall/session"))  # not retained
        # The summary follows each session end (once the statistics are recomputed).
        summary = late.json("affectra/hall/state",
                            predicate=lambda m: json.loads(m.payload)["sessions_total"] >= 2)
        assert summary["sessions_today"] == summary["sessions_total"]
        assert summary["top_emotion"] == "happy"  # the astronaut smiles
        assert sum(summary["shares"].values()) == pytest.approx(100, abs=0.05)
        discovery = json.loads(late.on("homeassistant/device/affectra_hall/config")[0].payload)
        assert "camera_door_status" in discovery["cmps"]
    finally:
        assert daemon.terminate() == 0
    offline = late.wait_for("affectra/hall/availability", lambda m: m.payload == b"offline")
    assert offline
    records = {r.session_id: r for r in SessionStore(state / "sessions", 30).read()}
    published = {}
    for message in live.on("affectra/hall/session"):
        payload = json.loads(message.payload)
        published[payload["session_id"]] = payload
    # Every session in the CSV was published (those closed at shutdown too), and each event
    # says exactly what its CSV row says.
    assert set(published) == set(records) and len(records) >= 2
    for session_id, record in records.items():
        assert published[session_id] == csv_row_as_event(record)
    # Only numbers and words leave the box: no message carries an image.
    for message in live.messages + late.messages:
        assert not message.payload.startswith((b"\xff\xd8\xff", b"\x89PNG", b"BM")), \
            message.topic
        assert len(message.payload) < 8192, message.topic
    live.close()
    late.close()


def test_home_assistant_coming_online_gets_discovery_again(tmp_path, video, broker):
    daemon, _ = start_daemon(tmp_path, write_config(tmp_path, video, broker))
    recorder = Recorder(broker)
    topic = "homeassistant/device/affectra_hall/config"
    try:
        daemon.wait_for("MQTT: connected", timeout_s=60)
        recorder.wait_for(topic)
        time.sleep(0.5)
        before = len(recorder.on(topic))
        recorder.publish("homeassistant/status", "offline")
        recorder.publish("homeassistant/status", "online")
        recorder.wait_for(topic, count=before + 1, timeout_s=10)
        daemon.wait_for("Home Assistant came online", timeout_s=5)
    finally:
        assert daemon.terminate() == 0
        recorder.close()


def test_sigkill_makes_the_broker_say_offline(tmp_path, video, broker):
    daemon, _ = start_daemon(tmp_path, write_config(tmp_path, video, broker))
    recorder = Recorder(broker, "affectra/hall/availability")
    try:
        daemon.wait_for("MQTT: connected", timeout_s=60)
        recorder.wait_for("affectra/hall/availability", lambda m: m.payload == b"online")
    finally:
        daemon.process.send_signal(signal.SIGKILL)
        daemon.process.wait(10)
    recorder.wait_for("affectra/hall/availability", lambda m: m.payload == b"offline",
                      timeout_s=10)  # the last will, sent by the broker
    assert "MQTT: disconnected" not in "\n".join(daemon.lines)  # no clean goodbye was said
    recorder.close()


def test_sessions_ended_while_the_broker_is_down_arrive_after_it_returns(tmp_path, video):
    broker = Broker(tmp_path / "broker", persistent=True).start()
    # A subscriber with a persistent session: the broker keeps its messages while it is away.
    recorder = Recorder(broker, "affectra/hall/session", persistent=True)
    daemon, state = start_daemon(tmp_path, write_config(tmp_path, video, broker))
    try:
        daemon.wait_for("MQTT: connected", timeout_s=60)
        recorder.wait_for("affectra/hall/session", timeout_s=20)
        recorder.close()
        broker.stop()
        stopped_at = time.time()
        daemon.wait_for("MQTT: .*connection .*lost|MQTT: .*refused", timeout_s=10)
        time.sleep(10)  # sessions keep ending meanwhile
        during = [r for r in SessionStore(state / "sessions", 30).read()
                  if r.ended_at.timestamp() > stopped_at]
        assert len(during) >= 2, "no session ended while the broker was down"
        broker.start()
        recorder = Recorder(broker, "affectra/hall/session", persistent=True)
        wait_until(lambda: {r.session_id for r in during} <= received_ids(recorder), 30,
                   "the sessions of the outage to arrive")
        assert "MQTT: connected" in "\n".join(daemon.lines[-200:])
    finally:
        assert daemon.terminate() == 0
        recorder.close()
        broker.stop()
    # Nothing is lost from the CSV, and what arrived is what the CSV holds.
    records = {r.session_id: r for r in SessionStore(state / "sessions", 30).read()}
    for message in recorder.messages:
        event = json.loads(message.payload)
        assert event == csv_row_as_event(records[event["session_id"]])


def received_ids(recorder: Recorder) -> set[str]:
    return {json.loads(m.payload)["session_id"] for m in list(recorder.messages)}


def write_password(state: Path, config_path: Path, password: str) -> None:
    """Keep the MQTT password as the settings page does: encrypted in settings.json."""
    from affectra_edge.config import load_config

    config = load_config(config_path)
    config.storage.state_dir = str(state)
    save(config, current(config), SecretBox(state), password)


def test_user_password_and_tls(tmp_path, video):
    tls = make_tls_files(tmp_path / "tls")
    broker = Broker(tmp_path / "broker", users={"sensor": PASSWORD, "ha": "ha-secret-1"},
                    tls=tls).start()
    config = write_config(tmp_path, video, broker, username="sensor", tls=True,
                          ca_file=str(tls.ca))
    state = tmp_path / "state"
    state.mkdir(mode=0o750)
    write_password(state, config, PASSWORD)
    assert PASSWORD not in (state / "settings.json").read_text()
    daemon = DaemonProcess(config, state)
    try:
        daemon.wait_for("MQTT: connected to mqtts://127.0.0.1", timeout_s=60)
        recorder = Recorder(broker, tls=tls, username="ha", password="ha-secret-1")
        recorder.wait_for("affectra/hall/availability", lambda m: m.payload == b"online")
        recorder.wait_for("affectra/hall/session", timeout_s=20)
        recorder.close()
    finally:
        assert daemon.terminate() == 0
        broker.stop()
    assert PASSWORD not in "\n".join(daemon.lines)


def test_a_wrong_password_is_one_clear_error_not_a_reconnect_storm(tmp_path, video):
    broker = Broker(tmp_path / "broker", users={"sensor": PASSWORD}).start()
    config = write_config(tmp_path, video, broker, username="sensor", reconnect_max_s=2)
    state = tmp_path / "state"
    state.mkdir(mode=0o750)
    write_password(state, config, "wrong password")
    daemon = DaemonProcess(config, state)
    try:
        daemon.wait_for("MQTT refused", timeout_s=60)  # in the status line
        time.sleep(7)  # a few retries, each at the cap (2 s here, 60 s by default)
        assert daemon.process.poll() is None
    finally:
        assert daemon.terminate() == 0
        broker.stop()
    errors = [line for line in daemon.lines if "refused the connection" in line]
    assert len(errors) == 1, daemon.lines  # logged once, however often it is retried
    assert "not authori" in errors[0] and "check the user name and password" in errors[0]
    # Retried at the cap (1.4-2 s apart): 7 s allow 3 to 6 logins, a storm would be hundreds.
    assert 3 <= broker.refused_logins() <= 7, broker.log()
    assert "wrong password" not in "\n".join(daemon.lines)


def test_two_devices_on_one_broker_do_not_collide(tmp_path, video, broker):
    recorder = Recorder(broker)
    first, _ = start_daemon(tmp_path, write_config(tmp_path, video, broker, "east"), "east")
    second, _ = start_daemon(tmp_path, write_config(tmp_path, video, broker, "west"), "west")
    try:
        for device in ("east", "west"):
            recorder.wait_for(f"homeassistant/device/affectra_{device}/config", timeout_s=60)
            recorder.wait_for(f"affectra/{device}/session", timeout_s=30)
    finally:
        assert first.terminate() == 0 and second.terminate() == 0
    configs = {d: json.loads(recorder.on(f"homeassistant/device/affectra_{d}/config")[-1].payload)
               for d in ("east", "west")}
    ids = {d: {c["unique_id"] for c in cfg["cmps"].values()} for d, cfg in configs.items()}
    assert ids["east"].isdisjoint(ids["west"])
    assert configs["east"]["dev"]["ids"] != configs["west"]["dev"]["ids"]
    entity_ids = [c["default_entity_id"] for cfg in configs.values() for c in cfg["cmps"].values()]
    assert len(entity_ids) == len(set(entity_ids))
    for device, other in (("east", "west"), ("west", "east")):
        topics = {m.topic for m in recorder.messages if m.topic.startswith(f"affectra/{device}/")}
        assert f"affectra/{device}/session" in topics
        for message in recorder.on(f"affectra/{device}/session"):
            assert json.loads(message.payload)["camera_id"] == "door"
        assert all(other not in t for t in topics)
    recorder.close()
