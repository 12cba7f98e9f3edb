"""The camera store: persisted round trips, encrypted credentials, validation with the field
named, config cameras, a damaged file kept aside, listeners, threads."""

from __future__ import annotations

import json
import logging
import stat
import threading
from pathlib import Path

import pytest

from affectra_edge.cameras import store as store_module
from affectra_edge.cameras.store import (
    CameraNotFound,
    CameraStore,
    CameraStoreError,
    StoredCamera,
)
from affectra_edge.config import CameraConfig, ConfigError, camera_from_dict
from affectra_edge.security import SecretBox, SecretError

PASSWORD = "S3cret-Pw!9"
ESP_URL = f"http://admin:{PASSWORD}@esp32cam.local:81/stream"
RTSP_TOKEN = "T0kenValue77"
RTSP_URL = f"rtsp://10.0.0.9:554/live?channel=1&token={RTSP_TOKEN}"


def open_store(state_dir: Path, fixed: list[CameraConfig] = (), **kwargs) -> CameraStore:
    return CameraStore(state_dir, SecretBox(state_dir), fixed, **kwargs)


def esp(camera_id: str = "door", **fields) -> CameraConfig:
    return CameraConfig(id=camera_id, kind="mjpeg", source=ESP_URL, **fields)


def clip(camera_id: str = "clip", **fields) -> CameraConfig:
    return CameraConfig(id=camera_id, kind="file", source="/srv/videos/lobby.mp4", **fields)


def summary(cameras: list[StoredCamera]) -> list[tuple]:
    return [(c.id, c.camera.kind, c.display_source, c.enabled, c.from_config, c.has_credentials,
             c.camera.fps) for c in cameras]


def all_state_bytes(state_dir: Path) -> bytes:
    return b"".join(p.read_bytes() for p in state_dir.rglob("*") if p.is_file())


def test_changes_survive_a_fresh_store(state_dir: Path) -> None:
    store = open_store(state_dir)
    assert store.list() == [] and store.selected is None
    store.add(esp())
    store.add(clip())
    store.add(CameraConfig(id="usb", kind="webcam", source="/dev/video0", width=1280, height=720))
    store.update("door", fps=10, stall_timeout_s=8)
    store.set_enabled("clip", False)
    store.select("usb")
    store.remove("door")

    again = open_store(state_dir)
    assert summary(again.list()) == summary(store.list()) == [
        ("clip", "file", "/srv/videos/lobby.mp4", False, False, False, 15.0),
        ("usb", "webcam", "/dev/video0", True, False, False, 15.0),
    ]
    assert again.selected == "usb"
    assert again.resolved("usb") == CameraConfig(id="usb", kind="webcam", source="/dev/video0",
                                                 width=1280, height=720)
    assert again.get("door") is None and again.load_problem is None
    assert stat.S_IMODE((state_dir / "cameras.json").stat().st_mode) == 0o640


def test_credentials_are_only_stored_encrypted(state_dir: Path) -> None:
    store = open_store(state_dir)
    door = store.add(esp(fps=12))
    store.add(CameraConfig(id="hall", kind="rtsp", source=RTSP_URL))
    assert door.has_credentials and door.display_source == "http://***:***@esp32cam.local:81/stream"
    assert door.camera.source == door.display_source
    hall = store.get("hall")
    assert hall.has_credentials and RTSP_TOKEN not in hall.display_source

    on_disk = all_state_bytes(state_dir)
    for secret in (PASSWORD, RTSP_TOKEN, "admin:"):
        assert secret.encode() not in on_disk
    assert b"esp32cam.local:81/stream" in on_disk  # the redacted form is there for display
    for camera in store.list():
        assert PASSWORD not in repr(camera) and RTSP_TOKEN not in repr(camera)

    again = open_store(state_dir)
    assert again.resolved("door").source == ESP_URL and again.resolved("door").fps == 12
    assert again.resolved("hall").source == RTSP_URL


def test_updating_with_the_shown_source_keeps_the_credentials(state_dir: Path) -> None:
    store = open_store(state_dir)
    shown = store.add(esp()).display_source
    store.update("door", source=shown, fps=5)
    assert store.resolved("door").source == ESP_URL and store.resolved("door").fps == 5

    with pytest.raises(CameraStoreError) as caught:
        store.update("door", source="http://***:***@esp32cam.local:81/other")
    assert caught.value.field == "source" and "type the user name" in caught.value.message

    store.add(CameraConfig(id="hall", kind="rtsp", source=RTSP_URL))
    with pytest.raises(CameraStoreError) as caught:  # the token is still hidden as ***
        store.update("hall", source=store.get("hall").display_source.replace("=1", "=2"))
    assert caught.value.field == "source" and store.resolved("hall").source == RTSP_URL

    store.update("door", source="http://viewer:other-pw@esp32cam.local:81/stream")
    assert store.resolved("door").source == "http://viewer:other-pw@esp32cam.local:81/stream"
    assert b"other-pw" not in all_state_bytes(state_dir)

    store.update("door", source="http://esp32cam.local:81/stream")  # credentials dropped
    assert not store.get("door").has_credentials
    assert open_store(state_dir).resolved("door").source == "http://esp32cam.local:81/stream"


@pytest.mark.parametrize("camera, field, words", [
    (CameraConfig(id="door", kind="mjpeg", source="ftp://cam/stream"), "source",
     "http:// or https://"),
    (CameraConfig(id="Front Door!", kind="demo"), "id", "a-z, 0-9"),
    (CameraConfig(id="door", kind="laser"), "kind", "not one of"),
    (CameraConfig(id="usb", kind="webcam", source="99"), "source", "0 to 63, got 99"),
    (CameraConfig(id="clip", kind="file", source="videos/lobby.mp4"), "source", "absolute"),
    (CameraConfig(id="door", kind="rtsp", source="http://cam/live"), "source", "rtsp://"),
    (CameraConfig(id="door", kind="mjpeg", source=""), "source", "needs a URL"),
    (CameraConfig(id="door", kind="demo", fps=500), "fps", "out of bounds"),
    (CameraConfig(id="door", kind="demo", fps="fast"), "fps", "expected a number"),
    (CameraConfig(id="door", kind="demo", enabled="yes"), "enabled", "true or false"),
])
def test_invalid_cameras_are_refused_with_the_field(state_dir: Path, camera: CameraConfig,
                                                    field: str, words: str) -> None:
    store = open_store(state_dir)
    with pytest.raises(CameraStoreError) as caught:
        store.add(camera)
    assert caught.value.field == field and words in caught.value.message
    assert caught.value.errors[field] == caught.value.message
    assert store.list() == [] and not (state_dir / "cameras.json").exists()


def test_every_faulty_field_is_reported(state_dir: Path) -> None:
    with pytest.raises(CameraStoreError) as caught:
        open_store(state_dir).add(CameraConfig(id="BAD", kind="demo", width=1, fps=0))
    assert set(caught.value.errors) == {"id", "fps", "width"}


def test_duplicate_id_and_bad_updates_are_refused(state_dir: Path) -> None:
    store = open_store(state_dir)
    store.add(esp())
    with pytest.raises(CameraStoreError) as caught:
        store.add(clip("door"))
    assert caught.value.field == "id" and "already" in caught.value.message
    with pytest.raises(CameraStoreError) as caught:
        store.update("door", kind="rtsp")  # the stored http URL does not fit an rtsp camera
    assert caught.value.field == "source"
    with pytest.raises(CameraStoreError) as caught:
        store.update("door", colour="red")
    assert caught.value.field == "colour" and "unknown key" in caught.value.message
    with pytest.raises(CameraStoreError) as caught:
        store.update("door", id="porch")
    assert caught.value.field == "id"
    with pytest.raises(CameraNotFound):
        store.update("nowhere", fps=5)
    with pytest.raises(CameraNotFound):
        store.remove("nowhere")
    with pytest.raises(CameraNotFound):
        store.resolved("nowhere")
    assert store.resolved("door") == CameraConfig(id="door", kind="mjpeg", source=ESP_URL)


def test_config_cameras_are_listed_selectable_but_not_editable(state_dir: Path) -> None:
    fixed = [CameraConfig(id="lobby", kind="demo"),
             CameraConfig(id="gate", kind="rtsp", source="rtsp://op:gate-pw@10.0.0.7/live")]
    store = open_store(state_dir, fixed)
    store.add(clip())
    assert [(c.id, c.from_config) for c in store.list()] == [
        ("lobby", True), ("gate", True), ("clip", False)]
    gate = store.get("gate")
    assert gate.has_credentials and gate.display_source == "rtsp://***:***@10.0.0.7/live"
    assert store.resolved("gate").source == "rtsp://op:gate-pw@10.0.0.7/live"

    for change in (lambda: store.remove("lobby"), lambda: store.update("lobby", fps=5)):
        with pytest.raises(CameraStoreError) as caught:
            change()
        assert caught.value.field == "id"
        assert caught.value.message == ("camera lobby is defined in the config file; "
                                        "change it there")
    with pytest.raises(CameraStoreError, match="already"):
        store.add(CameraConfig(id="lobby", kind="demo"))

    store.select("gate")
    store.set_enabled("lobby", False)
    again = open_store(state_dir, fixed)
    assert again.selected == "gate"
    assert [c.enabled for c in again.list()] == [False, True, True]
    assert again.resolved("lobby").enabled is False
    assert b"gate-pw" not in all_state_bytes(state_dir)


def test_selection_falls_back_to_another_enabled_camera(state_dir: Path) -> None:
    store = open_store(state_dir)
    store.add(CameraConfig(id="a", kind="demo"))
    store.add(CameraConfig(id="b", kind="demo", enabled=False))
    store.add(CameraConfig(id="c", kind="demo"))
    store.add(CameraConfig(id="d", kind="demo"))
    store.select("a")
    store.remove("a")
    assert store.selected == "c"  # b is disabled
    store.set_enabled("c", False)
    assert store.selected == "d"
    with pytest.raises(CameraStoreError, match="disabled"):
        store.select("b")
    store.remove("d")
    assert store.selected is None
    store.set_enabled("b", True)
    assert store.selected == "b" and open_store(state_dir).selected == "b"


def test_default_selection_is_the_configs_active_camera(state_dir: Path) -> None:
    fixed = [CameraConfig(id="demo"), CameraConfig(id="front", kind="webcam", source="0")]
    assert open_store(state_dir, fixed, default_selected="front").selected == "front"
    assert open_store(state_dir, fixed).selected == "demo"


@pytest.mark.parametrize("damage", [
    b"{not json",
    b"\xff\xfe\x00",
    b"[]",
    b'{"version": 99, "cameras": []}',
    b'{"version": 1, "cameras": [{"id": "door", "kind": "demo", "fps": "fast"}]}',
    b'{"version": 1, "cameras": [{"id": "a", "kind": "demo"}, {"id": "a", "kind": "demo"}]}',
    b'{"version": 1, "cameras": [{"id": "a", "kind": "mjpeg", "source_encrypted": "x"}]}',
    b'{"version": 1, "selected": 3}',
])
def test_a_damaged_file_is_kept_aside_and_the_store_starts(state_dir: Path, caplog,
                                                           damage: bytes) -> None:
    path = state_dir / "cameras.json"
    path.write_bytes(damage)
    with caplog.at_level(logging.WARNING, logger="affectra_edge.cameras.store"):
        store = open_store(state_dir)
    assert store.list() == [] and store.load_problem
    [kept] = list(state_dir.glob("cameras.json.bad-*"))
    assert kept.read_bytes() == damage
    assert kept.name in store.load_problem and kept.name in caplog.text
    assert not path.exists()
    store.add(clip())
    assert kept.read_bytes() == damage
    assert [c.id for c in open_store(state_dir).list()] == ["clip"]


def test_an_unreadable_file_is_kept_aside_too(state_dir: Path) -> None:
    (state_dir / "cameras.json").mkdir()  # reading it fails with an OS error
    store = open_store(state_dir)
    assert "cannot read it" in store.load_problem
    assert [p.is_dir() for p in state_dir.glob("cameras.json.bad-*")] == [True]
    store.add(clip())


def test_two_damaged_starts_keep_both_copies(state_dir: Path) -> None:
    for damage in (b"first", b"second"):
        (state_dir / "cameras.json").write_bytes(damage)
        open_store(state_dir)
    kept = sorted(p.read_bytes() for p in state_dir.glob("cameras.json.bad-*"))
    assert kept == [b"first", b"second"]


def test_a_replaced_key_is_a_clear_error_for_that_camera(state_dir: Path, caplog) -> None:
    store = open_store(state_dir)
    store.add(esp())
    store.add(clip())
    (state_dir / "secret.key").unlink()
    with caplog.at_level(logging.WARNING, logger="affectra_edge.cameras.store"):
        again = open_store(state_dir)
    assert "secret.key" in caplog.text and "door" in caplog.text
    assert [c.id for c in again.list()] == ["door", "clip"]
    with pytest.raises(SecretError, match="secret.key"):
        again.resolved("door")
    assert again.resolved("clip").source == "/srv/videos/lobby.mp4"
    again.update("door", source=ESP_URL)  # typing the URL again mends it
    assert again.resolved("door").source == ESP_URL


def test_a_password_written_in_clear_by_hand_is_encrypted_on_load(state_dir: Path) -> None:
    document = {"version": 1, "cameras": [{"id": "door", "kind": "mjpeg", "source": ESP_URL}]}
    (state_dir / "cameras.json").write_text(json.dumps(document))
    store = open_store(state_dir)
    assert PASSWORD.encode() not in (state_dir / "cameras.json").read_bytes()
    assert store.get("door").has_credentials and store.resolved("door").source == ESP_URL


def test_listeners_get_the_new_list_after_each_change(state_dir: Path) -> None:
    store = open_store(state_dir)
    seen: list[list[str]] = []
    store.subscribe(lambda cameras: 1 / 0)  # a broken listener never breaks the store
    unsubscribe = store.subscribe(lambda cameras: seen.append([c.id for c in cameras]))
    store.add(esp())
    store.add(clip())
    store.set_enabled("clip", False)
    store.select("door")
    with pytest.raises(CameraStoreError):
        store.add(clip())  # refused: nothing changed, nobody told
    store.remove("clip")
    assert seen == [["door"], ["door", "clip"], ["door", "clip"], ["door", "clip"], ["door"]]
    unsubscribe()
    store.update("door", fps=5)
    assert len(seen) == 5


def test_a_listener_may_read_and_change_the_store(state_dir: Path) -> None:
    store = open_store(state_dir)
    seen: list[list[str]] = []

    def reacting(cameras: list[StoredCamera]) -> None:
        seen.append([c.id for c in cameras])
        if len(cameras) == 1:
            store.add(clip())  # a nested change: every listener gets the newest list

    store.subscribe(reacting)
    store.subscribe(lambda cameras: seen.append(["late"] + [c.id for c in cameras]))
    store.add(esp())
    assert seen[-1] == ["late", "door", "clip"]
    assert ["late", "door"] not in seen  # never the older list after the newer one


def test_a_failed_save_changes_nothing(state_dir: Path, monkeypatch) -> None:
    """A full disk cannot be made on demand here, so the write is made to fail."""
    store = open_store(state_dir)
    store.add(clip())
    calls = []
    store.subscribe(calls.append)

    def disk_full(path, data, mode):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store_module, "atomic_write", disk_full)
    with pytest.raises(CameraStoreError, match="No space left"):
        store.add(esp())
    assert [c.id for c in store.list()] == ["clip"] and calls == []


def test_concurrent_changes_are_all_kept(state_dir: Path) -> None:
    store = open_store(state_dir)
    latest: list[list[str]] = []
    store.subscribe(lambda cameras: latest.append(sorted(c.id for c in cameras)))
    errors: list[BaseException] = []

    def add_some(worker: int) -> None:
        try:
            for n in range(4):
                store.add(esp(f"cam-{worker}-{n}"))
                store.update(f"cam-{worker}-{n}", fps=5 + n)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=add_some, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    expected = sorted(f"cam-{w}-{n}" for w in range(4) for n in range(4))
    assert sorted(c.id for c in store.list()) == expected
    assert sorted(c.id for c in open_store(state_dir).list()) == expected
    assert latest[-1] == expected
    assert all(len(a) <= len(b) for a, b in zip(latest, latest[1:]))  # never an older list
    with pytest.raises(CameraStoreError, match="at most 16"):
        store.add(clip())


def test_camera_from_dict_uses_the_config_checks() -> None:
    assert camera_from_dict({"id": "door", "kind": "mjpeg", "source": "http://c/s"}) == \
        CameraConfig(id="door", kind="mjpeg", source="http://c/s")
    with pytest.raises(ConfigError) as caught:
        camera_from_dict({"id": "door", "fps": 0, "colour": "red"}, "form")
    assert sorted(caught.value.errors) == [
        "form: colour: unknown key (known: id, kind, source, enabled, fps, width, height, loop, "
        "demo_cycle_s, mode, connect_timeout_s, stall_timeout_s, max_frame_bytes)",
        "form: fps: 0 is out of bounds (0.5 to 120)",
    ]
