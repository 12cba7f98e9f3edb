"""RTSP through OpenCV's FFmpeg backend, against a real RTSP server on loopback.

The server is GStreamer's RTSP server (Debian packages, installed by `make test`) serving a
video made from real face photos. Killing it takes the camera offline; starting it again
brings the camera back online, without restarting the daemon.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from affectra_edge.cameras.scene import Appearance
from affectra_edge.config import config_from_dict
from affectra_edge.daemon import Daemon
from tests.conftest import ROOT, run_affectra, write_video

SYSTEM_PYTHON = "/usr/bin/python3"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RtspServer:
    def __init__(self, port: int, video: Path, auth: tuple[str, str] | None = None):
        self.port, self.video, self.auth = port, video, auth
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [SYSTEM_PYTHON, str(ROOT / "tests" / "rtsp_server.py"), str(self.port),
             str(self.video), *(self.auth or ())], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()  # type: ignore[union-attr]
        if "serving" not in line:
            self.process.kill()
            raise AssertionError("RTSP server did not start (needs Debian's python3-gi and "
                                 "gir1.2-gst-rtsp-server-1.0; `make test` installs them): "
                                 + line + self.process.stderr.read())  # type: ignore[union-attr]

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    @property
    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.port}/live"


@pytest.fixture
def rtsp_server(tmp_path):
    video = write_video(tmp_path / "rtsp.avi", [Appearance(0, 1e9, 0.5, 0.5, 140)], 60.0,
                        fps=15)
    server = RtspServer(free_port(), video)
    server.start()
    yield server
    server.kill()


def wait_for_state(daemon: Daemon, state: str, timeout_s: float, min_frames: int = 0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        (status,) = daemon.supervisor.statuses()
        if status.state == state and status.frames_received >= min_frames:
            return status
        time.sleep(0.1)
    raise AssertionError(f"camera never became {state}: {daemon.supervisor.statuses()}")


def test_rtsp_camera_goes_offline_with_its_server_and_comes_back(rtsp_server, state_dir):
    config = config_from_dict({
        "cameras": {"active": "door", "reconnect_max_s": 2.0,
                    "sources": [{"id": "door", "kind": "rtsp", "source": rtsp_server.url,
                                 "connect_timeout_s": 3.0}]},
        "storage": {"state_dir": str(state_dir)}, "web": {"port": 0}})
    daemon = Daemon(config)
    daemon.start()
    try:
        online = wait_for_state(daemon, "online", 20, min_frames=10)
        assert (online.width, online.height) == (640, 480)
        rtsp_server.kill()
        offline = wait_for_state(daemon, "offline", 20)
        assert "rtsp://127.0.0.1" in offline.last_error
        rtsp_server.start()
        before = offline.frames_received
        back = wait_for_state(daemon, "online", 30, min_frames=before + 10)
        assert back.last_error is None
        deadline = time.monotonic() + 10
        while daemon.supervisor.pipelines[0].faces_in_view() != 1:  # real frames, real face
            assert time.monotonic() < deadline, "no face seen in the RTSP frames"
            time.sleep(0.1)
    finally:
        daemon.shutdown()


def test_test_camera_tells_rtsp_problems_apart(tmp_path):
    video = write_video(tmp_path / "rtsp.avi", [Appearance(0, 1e9, 0.5, 0.5, 140)], 20.0, fps=15)
    server = RtspServer(free_port(), video, auth=("admin", "s3cret"))
    server.start()
    base = f"127.0.0.1:{server.port}"
    try:
        cases = [(f"rtsp://{base}/live", "FAILED: rtsp://" + base + "/live needs a user and "
                  "password (RTSP 401)"),
                 (f"rtsp://admin:wrong@{base}/live", "FAILED: rtsp://***:***@" + base +
                  "/live: wrong user or password (RTSP 401)"),
                 (f"rtsp://admin:s3cret@{base}/nowhere", "FAILED: rtsp://***:***@" + base +
                  "/nowhere: the camera has no stream at /nowhere (RTSP 404)"),
                 (f"rtsp://admin:s3cret@{base}/live", "OK: 640×480 at ")]
        for url, expected in cases:
            result = run_affectra("test-camera", url)
            assert result.stdout.startswith(expected), (url, result.stdout, result.stderr)
            assert result.returncode == (0 if expected.startswith("OK") else 1)
            assert "s3cret" not in result.stdout + result.stderr
    finally:
        server.kill()
    closed = run_affectra("test-camera", f"rtsp://{base}/live")
    assert "connection refused" in closed.stdout and closed.returncode == 1
