"""Secret box (key file creation, permissions, races), URL credentials, source validators,
and the safe file operations of the state directory."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from affectra_edge import security
from affectra_edge.security import (
    SecretBox,
    SecretError,
    UnsafeStateDir,
    atomic_write,
    ensure_state_dir,
    holds_secret,
    split_credentials,
    validate_camera_source,
)
from tests.conftest import affectra_env

_RACER = """
import sys
from pathlib import Path
from affectra_edge.security import SecretBox
print("ready", flush=True)
sys.stdin.readline()
print(SecretBox(Path(sys.argv[1])).encrypt(sys.argv[2]), flush=True)
"""


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _leftovers(state_dir: Path) -> list[str]:
    return [p.name for p in state_dir.iterdir() if p.name != "secret.key"]


def test_key_is_created_0600_once_and_reused(state_dir: Path) -> None:
    first = SecretBox(state_dir)
    key_path = state_dir / "secret.key"
    assert first.key_path == key_path
    assert _mode(key_path) == 0o600
    assert key_path.stat().st_uid == os.geteuid()
    assert _leftovers(state_dir) == []
    key = key_path.read_bytes()
    second = SecretBox(state_dir)
    assert key_path.read_bytes() == key
    assert second.decrypt(first.encrypt("rtsp://admin:pw@cam/1")) == "rtsp://admin:pw@cam/1"


def test_key_is_private_before_it_gets_its_name(state_dir: Path, monkeypatch) -> None:
    seen = []
    real_link = os.link

    def checking_link(src, dst, *args, **kwargs):
        seen.append((Path(src).name, _mode(Path(src)), Path(src).stat().st_size))
        return real_link(src, dst, *args, **kwargs)

    monkeypatch.setattr(security.os, "link", checking_link)
    old_umask = os.umask(0)  # the most permissive umask must not leak into the key's mode
    try:
        SecretBox(state_dir)
    finally:
        os.umask(old_umask)
    [(name, mode, size)] = seen
    assert name.startswith(".secret.key.") and mode == 0o600 and size > 0
    assert _mode(state_dir / "secret.key") == 0o600


def test_losing_the_creation_race_takes_the_winners_key(state_dir: Path, monkeypatch) -> None:
    """Another process links its key between our write and our link: we must use its key."""
    winner_key = Fernet.generate_key()
    real_link = os.link

    def other_process_wins(src, dst, *args, **kwargs):
        fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, winner_key)
        os.close(fd)
        return real_link(src, dst, *args, **kwargs)

    monkeypatch.setattr(security.os, "link", other_process_wins)
    box = SecretBox(state_dir)
    assert box.decrypt(Fernet(winner_key).encrypt(b"door").decode()) == "door"
    assert (state_dir / "secret.key").read_bytes() == winner_key
    assert _leftovers(state_dir) == []


def test_processes_racing_to_create_the_key_end_with_the_same_key(tmp_path: Path) -> None:
    for round_no in range(3):
        state_dir = tmp_path / f"state{round_no}"
        state_dir.mkdir(mode=0o750)
        racers = [subprocess.Popen([sys.executable, "-c", _RACER, str(state_dir), f"racer {n}"],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                   env=affectra_env()) for n in range(8)]
        try:
            for racer in racers:  # every process has imported everything: now start together
                assert racer.stdout.readline().strip() == "ready"
            for racer in racers:
                racer.stdin.write("go\n")
                racer.stdin.flush()
            tokens = [racer.communicate(timeout=60)[0].strip() for racer in racers]
        finally:
            for racer in racers:
                if racer.poll() is None:
                    racer.kill()
        assert [r.returncode for r in racers] == [0] * 8
        box = SecretBox(state_dir)
        assert [box.decrypt(t) for t in tokens] == [f"racer {n}" for n in range(8)]
        assert _mode(state_dir / "secret.key") == 0o600
        assert _leftovers(state_dir) == []


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o620, 0o660])
def test_key_open_to_group_or_others_is_refused(state_dir: Path, mode: int) -> None:
    SecretBox(state_dir)
    key_path = state_dir / "secret.key"
    key_path.chmod(mode)
    with pytest.raises(SecretError) as caught:
        SecretBox(state_dir)
    assert str(key_path) in str(caught.value)
    assert f"{mode:04o}" in str(caught.value) and "chmod 600" in str(caught.value)


def test_key_owned_by_another_user_is_refused(state_dir: Path, monkeypatch) -> None:
    SecretBox(state_dir)
    key_path = state_dir / "secret.key"
    if os.geteuid() == 0:  # root can really give the file away
        os.chown(key_path, 54321, -1)
        owner = 54321
    else:  # otherwise the daemon is made to run as someone else than the file's owner
        owner = os.geteuid()
        monkeypatch.setattr(os, "geteuid", lambda: owner + 1)
    with pytest.raises(SecretError, match=f"owned by uid {owner}, not by this user"):
        SecretBox(state_dir)


def test_symlinked_key_is_refused(state_dir: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.key"
    elsewhere.write_bytes(Fernet.generate_key())
    elsewhere.chmod(0o600)
    (state_dir / "secret.key").symlink_to(elsewhere)
    with pytest.raises(SecretError, match="symbolic link"):
        SecretBox(state_dir)


def test_damaged_key_is_refused_and_left_alone(state_dir: Path) -> None:
    key_path = state_dir / "secret.key"
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b"not a fernet key\n")
    os.close(fd)
    with pytest.raises(SecretError, match="not a valid key"):
        SecretBox(state_dir)
    assert key_path.read_bytes() == b"not a fernet key\n"


def test_key_that_cannot_be_created_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SecretError, match="missing/secret.key: cannot create it"):
        SecretBox(tmp_path / "missing")


def test_encrypt_decrypt_round_trip(state_dir: Path) -> None:
    box = SecretBox(state_dir)
    for text in ["", "hunter2", "rtsp://admin:p@ss/w0rd@10.0.0.9:554/h264", "mot de passe é ✓"]:
        token = box.encrypt(text)
        assert text == "" or text not in token
        assert box.decrypt(token) == text
    assert box.encrypt("same") != box.encrypt("same")  # Fernet tokens carry a random IV


def test_token_from_a_replaced_key_raises_a_clear_error(state_dir: Path) -> None:
    token = SecretBox(state_dir).encrypt("hunter2")
    (state_dir / "secret.key").unlink()
    box = SecretBox(state_dir)  # a new key
    for bad in [token, "garbage", token[:-4] + "AAAA", "é"]:
        with pytest.raises(SecretError) as caught:
            box.decrypt(bad)
        assert str(state_dir / "secret.key") in str(caught.value)
        assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize("url, bare, has", [
    ("http://cam.local:81/stream", "http://cam.local:81/stream", False),
    ("http://admin:pw@cam.local:81/stream", "http://cam.local:81/stream", True),
    ("rtsp://admin@10.0.0.9/live?ch=1", "rtsp://10.0.0.9/live?ch=1", True),
    ("rtsp://u:p@ss@[::1]:554/x", "rtsp://[::1]:554/x", True),
])
def test_split_credentials(url: str, bare: str, has: bool) -> None:
    assert split_credentials(url) == (bare, has)


def test_holds_secret_sees_credentials_and_secret_query_values() -> None:
    assert holds_secret("http://a:b@cam/stream")
    assert holds_secret("rtsp://cam/live?token=abc")
    assert not holds_secret("http://cam:81/stream?quality=10")
    assert not holds_secret("http://[::1/stream")  # not a URL: no crash


@pytest.mark.parametrize("kind, source", [
    ("demo", ""),
    ("file", "/srv/videos/lobby.mp4"),
    ("webcam", ""), ("webcam", "0"), ("webcam", "63"), ("webcam", "/dev/video2"),
    ("webcam", "/dev/v4l/by-id/usb-046d_C270-video-index0"),
    ("mjpeg", "http://esp32cam.local:81/stream"), ("mjpeg", "https://admin:pw@10.0.0.5/mjpg"),
    ("mjpeg", "HTTP://CAM/stream"),
    ("rtsp", "rtsp://admin:pw@10.0.0.9:554/Streaming/Channels/101"), ("rtsp", "rtsps://[::1]/x"),
])
def test_valid_camera_sources(kind: str, source: str) -> None:
    assert validate_camera_source(kind, source) is None


@pytest.mark.parametrize("kind, source, words", [
    ("demo", "/dev/video0", "takes no source"),
    ("file", "", "absolute path"),
    ("file", "videos/lobby.mp4", "not an absolute path"),
    ("webcam", "99", "0 to 63, got 99"),
    ("webcam", "/tmp/video0", "device path"),
    ("webcam", "-1", "device index"),
    ("mjpeg", "", "http:// or https://"),
    ("mjpeg", "esp32cam.local:81/stream", "http:// or https://"),
    ("mjpeg", "rtsp://cam/stream", "must start with http:// or https://, not rtsp://"),
    ("mjpeg", "http:///stream", "no host"),
    ("mjpeg", "http://cam:99999/stream", "bad host or port"),
    ("mjpeg", "http://admin:pa/ss@cam/stream", "%2F"),
    ("mjpeg", "http://cam/stream\nX-Injected: 1", "control characters"),
    ("mjpeg", "http://cam/my stream", "space"),
    ("rtsp", "http://cam/live", "must start with rtsp:// or rtsps://, not http://"),
    ("rtsp", "ftp://cam/live", "rtsp:// or rtsps://"),
    ("laser", "", "unknown camera kind 'laser'"),
])
def test_invalid_camera_sources_say_why(kind: str, source: str, words: str) -> None:
    problem = validate_camera_source(kind, source)
    assert problem is not None and words in problem


def test_atomic_write_replaces_whole_file_with_mode(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    atomic_write(target, b"one", 0o640)
    atomic_write(target, b"two", 0o600)
    assert target.read_bytes() == b"two" and _mode(target) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_ensure_state_dir_refuses_a_dir_others_can_write(tmp_path: Path) -> None:
    created = ensure_state_dir(tmp_path / "new" / "state")
    assert created.is_dir()
    loose = tmp_path / "loose"
    loose.mkdir()
    loose.chmod(0o777)
    with pytest.raises(UnsafeStateDir, match="others can write"):
        ensure_state_dir(loose)
