"""`affectra run` as a real process on videos made from real photos."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from affectra_edge.cameras.scene import Appearance
from affectra_edge.storage import SessionStore
from tests.conftest import affectra_env, write_video
from tests.daemon_process import DaemonProcess as Daemon

SESSION_STARTED = r"session [0-9a-f]{8} started"


def write_config(tmp_path: Path, video: Path, loop: bool) -> Path:
    config = tmp_path / "affectra.toml"
    config.write_text(f"""
[cameras]
active = "entrance"
[[cameras.sources]]
id = "entrance"
kind = "file"
source = "{video}"
loop = {str(loop).lower()}
[sessions]
min_dwell_s = 1.0
absence_timeout_s = 1.0
[logging]
status_interval_s = 0.5
[web]
port = 0
""")
    return config


def test_two_viewers_become_two_sessions_and_sigterm_exits_cleanly(tmp_path, state_dir):
    scene = [Appearance(1.0, 6.0, 0.30, 0.45, 140),
             Appearance(3.0, 10.0, 0.70, 0.50, 120, flip=True),
             Appearance(11.5, 11.7, 0.40, 0.50, 130)]  # three frames: a blip, not a viewer
    video = write_video(tmp_path / "entrance.avi", scene, 13.0, fps=15)
    daemon = Daemon(write_config(tmp_path, video, loop=False), state_dir)
    try:
        daemon.wait_for("has ended", timeout_s=60)
        daemon.wait_for(r"2 session\(s\) today", timeout_s=10)
    finally:
        code = daemon.terminate()
    assert code == 0, "\n".join(daemon.lines)
    assert "stopped" in daemon.lines[-1]
    records = sorted(SessionStore(state_dir / "sessions", 30).read(), key=lambda r: r.started_at)
    assert len(records) == 2
    assert [r.camera_id for r in records] == ["entrance", "entrance"]
    # Wall-clock playback: durations near the 5 s and 7 s the viewers stay in the video.
    assert records[0].duration_s == pytest.approx(5.0, abs=0.8)
    assert records[1].duration_s == pytest.approx(7.0, abs=0.8)
    assert all(r.dominant_emotion == "happy" for r in records)  # the astronaut smiles
    assert all(r.frames >= 50 for r in records)
    assert sum(1 for line in daemon.lines if re.search(SESSION_STARTED, line)) == 2
    # Only numbers are kept: no file in the state dir holds an image.
    files = [p for p in state_dir.rglob("*") if p.is_file()]
    assert any(p.suffix == ".csv" for p in files)
    for path in files:
        head = path.read_bytes()[:8]
        assert not head.startswith((b"\xff\xd8\xff", b"\x89PNG", b"BM", b"RIFF")), path
        assert path.suffix.lower() not in {".jpg", ".jpeg", ".png", ".bmp", ".avi", ".mp4"}


def test_sigterm_closes_and_writes_the_open_session(tmp_path, state_dir):
    video = write_video(tmp_path / "stay.avi", [Appearance(0.5, 30, 0.5, 0.5, 150)], 30.0, fps=10)
    daemon = Daemon(write_config(tmp_path, video, loop=True), state_dir)
    try:
        daemon.wait_for(SESSION_STARTED, timeout_s=60)
        time.sleep(1.0)  # the viewer keeps watching for a moment
    finally:
        code = daemon.terminate()
    assert code == 0
    daemon.wait_for("closed at shutdown", timeout_s=1)
    records = SessionStore(state_dir / "sessions", 30).read()
    assert len(records) == 1 and records[0].duration_s >= 1.0


def test_a_missing_video_keeps_the_daemon_running(tmp_path, state_dir):
    daemon = Daemon(write_config(tmp_path, tmp_path / "gone.avi", loop=True), state_dir)
    try:
        line = daemon.wait_for("camera entrance offline", timeout_s=30)
        assert "gone.avi: no such file" in line
        daemon.wait_for("affectra started", timeout_s=5)
        time.sleep(1.5)
        assert daemon.process.poll() is None
    finally:
        code = daemon.terminate()
    assert code == 0


def test_a_state_dir_others_can_write_is_refused(tmp_path):
    unsafe = tmp_path / "unsafe"
    unsafe.mkdir()
    os.chmod(unsafe, 0o777)
    video = write_video(tmp_path / "v.avi", [], 1.0)
    result = subprocess.run(
        [sys.executable, "-m", "affectra_edge", "run", "--config",
         str(write_config(tmp_path, video, loop=False)), "--state-dir", str(unsafe)],
        capture_output=True, text=True, timeout=60, env=affectra_env())
    assert result.returncode == 2
    assert f"state dir {unsafe}: others can write to it" in result.stderr
    assert list(unsafe.iterdir()) == []
