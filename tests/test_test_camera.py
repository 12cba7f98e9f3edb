"""`affectra test-camera`: the size and rate of a working camera, one clear line for a bad one.

Real MJPEG servers on loopback (tests/mjpeg_servers.py) and the real command as a process.
"""

from __future__ import annotations

import socket

import pytest

from tests.conftest import run_affectra
from tests.mjpeg_servers import CameraServer


@pytest.fixture
def server():
    servers = []

    def make(**options) -> CameraServer:
        servers.append(CameraServer("espressif", fps=10, **options).start())
        return servers[-1]

    yield make
    for s in servers:
        s.stop()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when the block ends


def test_a_working_camera_reports_size_and_rate(server):
    cam = server()
    result = run_affectra("test-camera", cam.url())
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK: 640×480 at ")


@pytest.mark.parametrize("case, expected, code", [
    ("scheme", "an MJPEG camera URL must start with http:// or https://, not ftp://", 2),
    ("refused", "connection refused", 1),
    ("password", "wrong user or password (HTTP 401)", 1),
    ("html", "expected an MJPEG stream (multipart/x-mixed-replace), got text/html", 1),
])
def test_each_bad_camera_gets_one_clear_line(server, case, expected, code):
    if case == "scheme":
        url = "ftp://admin:hunter2@127.0.0.1/stream"
    elif case == "refused":
        url = f"http://admin:hunter2@127.0.0.1:{closed_port()}/stream"
    elif case == "password":
        url = server(auth=("admin", "right")).url(user="admin", password="hunter2")
    else:
        url = server(faults={"wrong_type"}).url(user="admin", password="hunter2")
    result = run_affectra("test-camera", url)
    assert result.returncode == code, (result.stdout, result.stderr)
    said = [line for line in (result.stdout + result.stderr).splitlines()
            if line.startswith(("FAILED:", "affectra: error:"))]
    assert len(said) == 1 and expected in said[0], result.stdout + result.stderr
    assert "hunter2" not in result.stdout + result.stderr
