"""The ESP32-CAM firmware's host-compiled logic, and its stream read by our own reader.

`make -C firmware test` builds the sketch's plain-C modules (MJPEG framing, settings parser,
Wi-Fi reconnect machine) with the system compiler, runs their unit tests, and syntax-checks
the sketch's C++ against stand-in headers. Then `firmware/test/stream_server.c`, built on the
firmware's own `mjpeg_framing.c`, serves real JPEG frames of faces on loopback and
:class:`MjpegSource` reads them: one protocol, both ends ours, checked against each other.

Not tested here: flashing, and the board itself (no ESP32 core or Xtensa toolchain can be
installed on this machine); see firmware/README.md. Missing gcc, g++ or make fails these
tests: they never skip.
"""

from __future__ import annotations

import re
import select
import shutil
import socket
import subprocess
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from affectra_edge.cameras.base import SourceError, StalledError
from affectra_edge.cameras.mjpeg import MjpegSource
from affectra_edge.cameras.scene import static_scene

ROOT = Path(__file__).resolve().parent.parent
FIRMWARE = ROOT / "firmware"
STREAM_SERVER = FIRMWARE / "build" / "stream_server"
BOUNDARY = "123456789000000000000987654321"
# Three frames of one, two and three faces, each at its own size, so order and size both show.
FRAME_SPECS = ((1, 640, 480), (2, 320, 240), (3, 800, 600))


@pytest.fixture(scope="module")
def firmware_build() -> subprocess.CompletedProcess:
    missing = [tool for tool in ("make", "cc", "g++") if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"the firmware tests need {', '.join(missing)} (Debian: build-essential); "
                    "they are not optional")
    return subprocess.run(["make", "-C", str(FIRMWARE), "test"], capture_output=True,
                          text=True, timeout=240)


@pytest.fixture(scope="module")
def frame_files(tmp_path_factory) -> list[tuple[Path, np.ndarray]]:
    """JPEG files of faces, with the image each one decodes to."""
    folder = tmp_path_factory.mktemp("frames")
    frames = []
    for faces, width, height in FRAME_SPECS:
        ok, encoded = cv2.imencode(".jpg", static_scene(faces, width, height),
                                   [cv2.IMWRITE_JPEG_QUALITY, 85])
        assert ok
        path = folder / f"faces{faces}_{width}x{height}.jpg"
        path.write_bytes(encoded.tobytes())
        frames.append((path, cv2.imdecode(encoded, cv2.IMREAD_COLOR)))
    return frames


@pytest.fixture
def stream_server(firmware_build, frame_files):
    """Starts firmware/build/stream_server on a free loopback port; yields its base URL."""
    assert firmware_build.returncode == 0, firmware_build.stdout + firmware_build.stderr
    processes = []

    def start(*options: str) -> str:
        process = subprocess.Popen(
            [str(STREAM_SERVER), "-p", "0", *options, *(str(p) for p, _ in frame_files)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        processes.append(process)
        ready, _, _ = select.select([process.stdout], [], [], 10)
        line = process.stdout.readline() if ready else ""
        match = re.fullmatch(r"listening on 127\.0\.0\.1:(\d+)\n", line)
        assert match, f"stream_server did not start: {line!r} {process.stderr.read()!r}" \
            if process.poll() is not None else f"stream_server said {line!r}"
        return f"http://127.0.0.1:{match.group(1)}"

    yield start
    for process in processes:
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()


def test_firmware_unit_tests_pass(firmware_build):
    output = firmware_build.stdout + firmware_build.stderr
    assert firmware_build.returncode == 0, output
    counts = re.findall(r"^(\d+) passed, (\d+) failed$", firmware_build.stdout, re.MULTILINE)
    assert counts, output
    passed, failed = map(int, counts[-1])
    assert passed > 0 and failed == 0, output
    assert STREAM_SERVER.is_file()


def test_the_response_head_and_first_part_are_espressifs_bytes(stream_server, frame_files):
    base = stream_server("-n", "1", "-f", "0")
    port = int(base.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"GET /stream HTTP/1.1\r\nHost: cam\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    jpeg = frame_files[0][0].read_bytes()
    separator = f"\r\n--{BOUNDARY}\r\n".encode()
    head = (b"HTTP/1.1 200 OK\r\n"
            b"Content-Type: multipart/x-mixed-replace;boundary=" + BOUNDARY.encode() + b"\r\n"
            b"Transfer-Encoding: chunked\r\n"
            b"Access-Control-Allow-Origin: *\r\n"
            b"X-Framerate: 60\r\n\r\n")
    assert data.startswith(head)
    body = data[len(head):]
    part = re.fullmatch(
        rb"24\r\n" + re.escape(separator) + rb"\r\n"
        rb"([0-9a-f]+)\r\n(Content-Type: image/jpeg\r\nContent-Length: (\d+)\r\n"
        rb"X-Timestamp: \d+\.\d{6}\r\n\r\n)\r\n"
        rb"([0-9a-f]+)\r\n(.*)\r\n", body, re.DOTALL)
    assert part, body[:200]
    assert int(part.group(1), 16) == len(part.group(2))
    assert int(part.group(3)) == len(jpeg) == int(part.group(4), 16)
    assert part.group(5) == jpeg  # no closing boundary, no last chunk after the frame


def test_the_reader_yields_every_frame_of_the_firmware_stream(stream_server, frame_files):
    frames = 7
    base = stream_server("-n", str(frames), "-f", "30", "-e", "close")
    source = MjpegSource(f"{base}/stream", mode="stream", connect_timeout_s=5.0,
                         stall_timeout_s=5.0, max_frame_bytes=2_000_000)
    received = []
    source.open()
    try:
        for _ in range(frames):
            received.append(source.read())
        with pytest.raises(SourceError, match="closed the stream"):
            source.read()
    finally:
        source.close()
    assert len(received) == frames
    for index, image in enumerate(received):
        _, expected = frame_files[index % len(frame_files)]
        assert image.shape == expected.shape
        assert np.array_equal(image, expected)
    assert source.skipped == 0


def test_a_firmware_stream_frozen_mid_frame_is_declared_stalled(stream_server, frame_files):
    stall_timeout_s = 1.0
    base = stream_server("-n", "2", "-f", "0", "-e", "stall", "-H", "20")
    source = MjpegSource(f"{base}/stream", mode="stream", connect_timeout_s=5.0,
                         stall_timeout_s=stall_timeout_s, max_frame_bytes=2_000_000)
    source.open()
    try:
        shapes = [source.read().shape for _ in range(2)]  # open() already holds the first
        assert shapes == [frame_files[0][1].shape, frame_files[1][1].shape]
        started = time.monotonic()
        with pytest.raises(StalledError):
            source.read()
        assert time.monotonic() - started < stall_timeout_s + 1.0
    finally:
        source.close()


def test_capture_mode_reads_the_firmware_capture_answer(stream_server, frame_files):
    base = stream_server("-c", "3")
    source = MjpegSource(f"{base}/capture", mode="capture", connect_timeout_s=5.0,
                         stall_timeout_s=3.0, max_frame_bytes=2_000_000)
    source.open()
    try:
        images = [source.read() for _ in range(3)]
    finally:
        source.close()
    for image, (_, expected) in zip(images, frame_files):
        assert image.shape == expected.shape
        assert np.array_equal(image, expected)
