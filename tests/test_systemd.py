"""The daemon under systemd's eyes: the sd_notify protocol against a real AF_UNIX datagram
socket set as NOTIFY_SOCKET, journald-style log lines, and the `status`/`clear` commands.

No systemd runs here: the test is the service manager's side of the protocol (it binds the
socket, sets NOTIFY_SOCKET, WATCHDOG_USEC and INVOCATION_ID as systemd does, and reads the
datagrams), and `affectra run` is the real process.
"""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from affectra_edge.cameras.scene import Appearance
from affectra_edge.control import ControlError, ControlServer, hold_state_dir
from affectra_edge.storage import SessionStore
from tests.conftest import affectra_env, run_affectra, wait_until, write_video
from tests.daemon_process import DaemonProcess
from tests.test_cli import make_record


class NotifySocket:
    """What systemd listens on: every datagram the service sends, with its arrival time."""

    def __init__(self, path: Path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.2)
        self.messages: list[tuple[float, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            self.messages.append((time.monotonic(), data.decode()))

    def times(self, field: str, since: float = 0.0) -> list[float]:
        return [t for t, m in list(self.messages) if t >= since and field in m.splitlines()]

    def fields(self, prefix: str) -> list[str]:
        return [line for _, m in list(self.messages) for line in m.splitlines()
                if line.startswith(prefix)]

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


def write_config(tmp_path: Path, source_lines: str) -> Path:
    path = tmp_path / "affectra.toml"
    path.write_text(f"""
[device]
id = "unit"
[cameras]
active = "door"
[[cameras.sources]]
id = "door"
{source_lines}
[sessions]
min_dwell_s = 1.0
absence_timeout_s = 0.5
[web]
host = "127.0.0.1"
port = 0
[logging]
status_interval_s = 0.5
""")
    return path


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("video") / "door.avi"
    return write_video(path, [Appearance(0.3, 3.0, 0.5, 0.5, 150)], 4.0, fps=10)


def start(tmp_path: Path, config: Path, env: dict[str, str]) -> tuple[DaemonProcess, Path]:
    state = tmp_path / "state"
    state.mkdir(mode=0o750, exist_ok=True)
    saved = dict(os.environ)
    os.environ.update(env)  # DaemonProcess takes the environment of the test process
    try:
        return DaemonProcess(config, state), state
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_ready_status_watchdog_wedge_and_stopping(tmp_path, video):
    notify = NotifySocket(tmp_path / "notify.sock")
    wedge = tmp_path / "wedge"
    config = write_config(tmp_path, f'kind = "file"\nsource = "{video}"\nloop = true')
    daemon, _ = start(tmp_path, config, {
        "NOTIFY_SOCKET": str(notify.path), "WATCHDOG_USEC": "2000000",  # WatchdogSec=2
        "INVOCATION_ID": "0123456789abcdef", "AFFECTRA_TEST_WEDGE_FILE": str(wedge)})
    try:
        wait_until(lambda: notify.times("READY=1"), 60, "READY=1")
        ready_at = notify.times("READY=1")[0]
        daemon.wait_for("affectra started", timeout_s=5)  # logged before READY was sent
        assert notify.times("WATCHDOG=1") == [] or notify.times("WATCHDOG=1")[0] >= ready_at
        wait_until(lambda: len(notify.times("WATCHDOG=1")) >= 5, 15, "five watchdog pings")
        pings = notify.times("WATCHDOG=1")
        gaps = [b - a for a, b in zip(pings, pings[1:])]
        # Half of WatchdogSec, as systemd recommends: never near the 2 s limit, no flood.
        assert max(gaps) < 1.9 and statistics.median(gaps) > 0.5, gaps
        status = notify.fields("STATUS=")
        assert any("1 of 1 camera online" in s and "sessions today" in s for s in status), status
        wedge.touch()  # the analyzer now hangs, as a stuck driver would
        daemon.wait_for("unhealthy: the analyzer of camera door has made no progress",
                        timeout_s=30)
        stopped_at = time.monotonic()
        time.sleep(3)
        assert notify.times("WATCHDOG=1", since=stopped_at) == []  # systemd would restart us
        wedge.unlink()
        daemon.wait_for("healthy again", timeout_s=15)
        wait_until(lambda: notify.times("WATCHDOG=1", since=stopped_at), 10, "pings again")
    finally:
        code = daemon.terminate()
        notify.close()
    assert code == 0
    assert "STOPPING=1" in [line for _, m in notify.messages for line in m.splitlines()]
    # Under systemd (INVOCATION_ID) every line has a priority prefix and no timestamp.
    assert all(re_prefix(line) for line in daemon.lines), daemon.lines[:5]
    unhealthy = [line for line in daemon.lines if "unhealthy" in line]
    # One line for the whole wedge (about 5 s of it, a watchdog tick every second).
    assert len(unhealthy) == 1 and unhealthy[0].startswith("<3>"), unhealthy


def re_prefix(line: str) -> bool:
    return len(line) > 3 and line[0] == "<" and line[1] in "234567" and line[2] == ">"


def test_journal_lines_for_a_config_error_and_a_camera_going_offline(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[sessions]\nabsence_timeout_s = -1\n")
    env = {**affectra_env(), "INVOCATION_ID": "x"}
    result = subprocess.run([sys.executable, "-m", "affectra_edge", "check-config", "--config",
                             str(bad)], capture_output=True, text=True, env=env, timeout=60)
    lines = result.stderr.splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert lines[0].startswith("<3>affectra: config error: ") and "absence_timeout_s" in lines[0]
    # A camera whose URL holds a password: offline, one warning line, the password hidden.
    config = write_config(tmp_path, 'kind = "mjpeg"\n'
                          'source = "http://admin:hunter2secret@127.0.0.1:9/stream"')
    daemon, _ = start(tmp_path, config, {"INVOCATION_ID": "x"})
    try:
        line = daemon.wait_for("camera door offline", timeout_s=60)
    finally:
        assert daemon.terminate() == 0
    assert line.startswith("<4>") and "connection refused" in line.lower()
    assert not any("hunter2secret" in line for line in daemon.lines)


def test_a_restart_after_a_kill_says_why_and_status_and_clear_ask_the_daemon(tmp_path, video):
    config = write_config(tmp_path, f'kind = "file"\nsource = "{video}"\nloop = true')
    daemon, state = start(tmp_path, config, {})
    daemon.wait_for("affectra started", timeout_s=60)
    daemon.process.send_signal(signal.SIGKILL)
    daemon.process.wait(10)
    daemon, state = start(tmp_path, config, {})
    try:
        daemon.wait_for("ended without a clean stop", timeout_s=60)
        daemon.wait_for("session .* ended after", timeout_s=30)  # data to clear
        args = ("--config", str(config), "--state-dir", str(state))
        # A second daemon on the same state dir is refused and leaves the first one alone.
        second = run_affectra("run", *args)
        assert second.returncode == 2, second.stderr
        assert "another affectra daemon is running with state dir" in second.stderr
        assert (state / "running").exists() and (state / "control.sock").exists()
        status = run_affectra("status", *args)
        assert status.returncode == 0, status.stderr
        assert "camera door: online" in status.stdout and "device unit" in status.stdout
        refused = run_affectra("clear", *args)
        assert refused.returncode == 2 and "affectra clear --yes" in refused.stderr
        cleared = run_affectra("clear", "--yes", *args)
        assert cleared.returncode == 0 and "deleted" in cleared.stdout, cleared.stderr
        daemon.wait_for("cleared .* by the command line", timeout_s=5)
        as_json = run_affectra("status", "--json", *args)
        assert '"sessions_total": 0' in as_json.stdout
    finally:
        assert daemon.terminate() == 0
    assert not (state / "running").exists() and not (state / "control.sock").exists()
    gone = run_affectra("status", "--config", str(config), "--state-dir", str(state))
    assert gone.returncode == 2 and "the daemon is not running" in gone.stderr


def test_clear_without_a_daemon_waits_for_one_that_is_starting(tmp_path):
    """No socket answers, but a daemon holds the state dir (it is starting): clear refuses
    rather than delete under it; once the lock is free, clear deletes directly."""
    state = tmp_path / "state"
    state.mkdir(mode=0o750)
    store = SessionStore(state / "sessions", retention_days=30)
    store.append(make_record(datetime.now(UTC), "happy", 3.0))
    args = ("clear", "--yes", "--state-dir", str(state))
    fd = hold_state_dir(state)
    try:
        busy = run_affectra(*args)
    finally:
        os.close(fd)
    assert busy.returncode == 2 and "try again in a moment" in busy.stderr, busy.stderr
    assert store.count() == 1
    cleared = run_affectra(*args)
    assert cleared.returncode == 0 and "deleted 1 recorded session" in cleared.stdout
    assert store.count() == 0


def test_a_control_socket_that_cannot_be_opened_is_one_named_error(tmp_path):
    """A state dir whose path is too long for an AF_UNIX socket (108 bytes)."""
    deep = tmp_path / ("d" * 110)
    deep.mkdir()
    server = ControlServer(deep, {})
    with pytest.raises(ControlError, match=r"cannot open the control socket .*control\.sock"):
        server.start()
    server.close()  # the daemon's shutdown still closes it, quietly
