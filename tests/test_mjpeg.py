"""The MJPEG reader against real HTTP servers on loopback that talk like ESP32-CAM firmware
(``tests/mjpeg_servers.py``), and its byte-level parser fed from plain byte buffers."""

from __future__ import annotations

import base64
import random
import re
import socket
import threading
import time
import tracemalloc

import cv2
import numpy as np
import pytest

from affectra_edge.cameras.base import SourceError, SourceInfo, StalledError
from affectra_edge.cameras.http_stream import (
    ByteReader,
    MultipartReader,
    StreamClosed,
    body_reader,
    parse_content_type,
    read_response_head,
)
from affectra_edge.cameras.mjpeg import MjpegSource
from affectra_edge.cameras.worker import ONLINE, STALLED, CameraWorker
from tests.mjpeg_servers import CameraServer, face_jpegs

UNUSUAL_BOUNDARY = "Affectra.Unusual-Boundary_42+x"
SECRET = "s3cret-Pa55"


@pytest.fixture
def serve():
    """Start camera servers on free loopback ports; all are stopped after the test."""
    servers: list[CameraServer] = []

    def start(flavour: str = "espressif", **options) -> CameraServer:
        server = CameraServer(flavour, **options).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def run_worker():
    """Start real CameraWorkers; all are stopped and joined after the test."""
    stop = threading.Event()
    workers: list[CameraWorker] = []

    def start(make_source) -> CameraWorker:
        worker = CameraWorker(f"cam{len(workers)}", make_source, stop, reconnect_max_s=1.0)
        worker.start()
        workers.append(worker)
        return worker

    yield start
    stop.set()
    for worker in workers:
        worker.wake()
        assert worker.join(10), "a camera worker did not stop"


def expected_frame(index: int) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(face_jpegs()[index % 3], np.uint8), cv2.IMREAD_COLOR)


def read_until_closed(source: MjpegSource) -> list[np.ndarray]:
    frames = []
    with pytest.raises(SourceError, match="closed the stream"):
        while True:
            frames.append(source.read())
    return frames


def wait_for(condition, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def assert_one_clear_sentence(message: str) -> None:
    assert message and "\n" not in message and message == message.strip()
    assert not re.search(r"[.!?]\s", message), f"more than one sentence: {message!r}"
    assert SECRET not in message and "Pa55" not in message


# -- the stream, frame by frame ------------------------------------------------------------

@pytest.mark.parametrize("flavour, options", [
    ("espressif", {}),
    ("esphome", {"boundary": "esphome-own-boundary-0042"}),
    ("plain", {}),  # boundary=frame, no Content-Length: parts end at the next boundary
    ("espressif", {"faults": {"extra_headers"}, "boundary": UNUSUAL_BOUNDARY}),
    ("esphome", {"faults": {"no_length", "extra_headers"}, "boundary": UNUSUAL_BOUNDARY}),
])
def test_the_reader_yields_every_frame_sent(serve, flavour, options):
    server = serve(flavour, fps=30, frame_limit=12, **options)
    source = MjpegSource(server.url())
    source.open()
    try:
        frames = read_until_closed(source)
    finally:
        source.close()
    assert len(frames) == server.frames_sent == 12
    for index, frame in enumerate(frames):
        assert np.array_equal(frame, expected_frame(index)), f"frame {index} differs"
    assert source.skipped == 0 and source.last_skip is None
    assert (source.info().width, source.info().height) == (640, 480)
    line, headers = server.requests[0]
    assert line == "GET /stream HTTP/1.1"
    assert headers["host"] == f"127.0.0.1:{server.port}"
    assert headers["accept"] == "multipart/x-mixed-replace, image/jpeg"
    assert headers["connection"] == "close" and "authorization" not in headers


@pytest.mark.parametrize("content_type", [
    "multipart/x-mixed-replace;boundary={b}",
    'multipart/x-mixed-replace; boundary="{b}"',
    "Multipart/X-Mixed-Replace ; Boundary=--{b}",  # some cameras put the dashes in the header
])
def test_the_boundary_is_taken_from_the_content_type_header(serve, content_type):
    server = serve("esphome", frame_limit=5, boundary=UNUSUAL_BOUNDARY,
                   content_type=content_type.format(b=UNUSUAL_BOUNDARY))
    source = MjpegSource(server.url())
    source.open()
    try:
        assert len(read_until_closed(source)) == 5
    finally:
        source.close()
    assert source.skipped == 0


class Pieces:
    """A file whose ``read()`` returns 1 to 7 bytes at a time, so that the parser meets a
    split at every kind of place: inside chunk size lines, boundaries, headers, JPEGs."""

    def __init__(self, data: bytes, seed: int):
        self._data, self._at, self._rng = data, 0, random.Random(seed)

    def read(self, max_bytes: int) -> bytes:
        size = min(max_bytes, self._rng.randint(1, 7))
        piece = self._data[self._at:self._at + size]
        self._at += len(piece)
        return piece


def raw_bytes_of(server: CameraServer) -> bytes:
    """Everything a server sends for one /stream request, until it closes."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as client:
        client.sendall(b"GET /stream HTTP/1.1\r\nHost: cam\r\n\r\n")
        received = b""
        while piece := client.recv(65536):
            received += piece
    return received


@pytest.mark.parametrize("flavour", ["espressif", "esphome", "plain"])
def test_the_parser_reads_bytes_from_any_file_split_anywhere(serve, flavour):
    wire = raw_bytes_of(serve(flavour, fps=50, frame_limit=4, boundary=UNUSUAL_BOUNDARY,
                              faults={"extra_headers"}))
    reader = ByteReader(Pieces(wire, seed=len(wire)))
    head = read_response_head(reader)
    mime, params = parse_content_type(head.header("content-type"))
    assert (head.status, mime, params["boundary"]) == \
        (200, "multipart/x-mixed-replace", UNUSUAL_BOUNDARY)
    parts = MultipartReader(body_reader(reader, head), params["boundary"], 2_000_000)
    bodies = []
    with pytest.raises(StreamClosed):
        while True:
            bodies.append(parts.next_part().data)
    assert bodies == [face_jpegs()[i % 3] for i in range(4)]


def test_parameters_of_the_content_type():
    assert parse_content_type('multipart/x-mixed-replace; boundary="a b=c"; x=1') == \
        ("multipart/x-mixed-replace", {"boundary": "a b=c", "x": "1"})
    assert parse_content_type("image/jpeg") == ("image/jpeg", {})
    assert parse_content_type("") == ("", {})


# -- credentials -------------------------------------------------------------------------

def test_basic_auth_from_the_url_and_a_wrong_password(serve):
    server = serve(auth=("admin", f"p@ss:w/rd{SECRET}"))
    url = server.url(user="admin", password=f"p%40ss%3Aw%2Frd{SECRET}")  # percent-encoded
    source = MjpegSource(url, connect_timeout_s=2.0)
    source.open()
    try:
        assert np.array_equal(source.read(), expected_frame(0))
    finally:
        source.close()
    sent = base64.b64encode(f"admin:p@ss:w/rd{SECRET}".encode()).decode()
    assert server.requests[0][1]["authorization"] == f"Basic {sent}"
    assert source.describe() == f"MJPEG stream http://***:***@127.0.0.1:{server.port}/stream"

    wrong = MjpegSource(server.url(user="admin", password=SECRET))
    with pytest.raises(SourceError) as caught:
        wrong.open()
    assert "wrong user or password (HTTP 401)" in str(caught.value)
    assert_one_clear_sentence(str(caught.value))
    with pytest.raises(SourceError, match=r"asks for a user and password \(HTTP 401\)"):
        MjpegSource(server.url()).open()


# -- stalls ------------------------------------------------------------------------------

@pytest.mark.parametrize("faults", [set(), {"trickle"}], ids=["frozen", "trickling"])
def test_a_frozen_camera_is_declared_stalled_within_the_timeout(serve, faults):
    """The server stops mid-frame with the socket open (or sends one byte every 0.2 s)."""
    server = serve(freeze_after=3, faults=faults)
    source = MjpegSource(server.url(user="admin", password=SECRET), stall_timeout_s=1.0)
    source.open()
    try:
        for _ in range(3):  # the server sends 3 frames, then half of the 4th
            source.read()
        started = time.monotonic()
        with pytest.raises(StalledError) as caught:
            source.read()
        elapsed = time.monotonic() - started
    finally:
        source.close()
    assert 0.9 <= elapsed <= 1.0 + 1.0
    assert str(caught.value).startswith("no new frame for 1 s from http://***:***@127.0.0.1")
    assert_one_clear_sentence(str(caught.value))


def test_the_worker_goes_stalled_then_online_again_when_the_camera_resumes(serve, run_worker):
    server = serve(freeze_after=5)
    worker = run_worker(lambda: MjpegSource(server.url(), stall_timeout_s=1.0,
                                            connect_timeout_s=1.0))
    assert wait_for(lambda: worker.status().state == STALLED, 10), worker.status()
    stalled = worker.status()
    assert stalled.frames_received == 5
    assert stalled.last_error.startswith("no new frame for 1 s")
    server.resume()
    assert wait_for(lambda: worker.status().state == ONLINE
                    and worker.status().frames_received > 5, 10), worker.status()
    assert server.connections >= 2  # it reconnected


# -- bad streams -------------------------------------------------------------------------

@pytest.mark.parametrize("flavour, faults, frames, skipped, reason", [
    ("espressif", {"garbage"}, 6, 4, "not a complete JPEG"),
    ("esphome", {"garbage"}, 6, 4, "not a complete JPEG"),
    ("espressif", {"truncated"}, 6, 2, "ended after"),
    ("esphome", {"truncated", "no_length"}, 6, 2, "not a complete JPEG"),
    ("espressif", {"huge"}, 4, 1, "larger than max_frame_bytes"),
    ("esphome", {"huge", "no_length"}, 4, 1, "without Content-Length"),
])
def test_bad_parts_are_counted_and_skipped(serve, flavour, faults, frames, skipped, reason):
    server = serve(flavour, faults=faults, fps=50)
    source = MjpegSource(server.url())
    tracemalloc.start()
    try:
        source.open()
        received = [source.read() for _ in range(frames)]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        source.close()
    for index, frame in enumerate(received):  # no good frame was lost
        assert np.array_equal(frame, expected_frame(index)), f"frame {index} differs"
    assert source.skipped == skipped and reason in source.last_skip
    assert peak < 16_000_000  # the 50 MB part was never held whole


def test_a_close_in_the_middle_of_a_part_is_counted(serve):
    server = serve(faults={"close_mid_part"})
    source = MjpegSource(server.url())
    source.open()
    try:
        source.read(), source.read()  # the server closes in the middle of the third frame
        with pytest.raises(SourceError, match="closed the stream") as caught:
            source.read()
    finally:
        source.close()
    assert source.skipped == 1 and "middle of a frame" in source.last_skip
    assert_one_clear_sentence(str(caught.value))


@pytest.mark.parametrize("flavour, faults", [
    ("espressif", {"garbage", "truncated"}), ("esphome", {"garbage", "no_length"}),
    ("espressif", {"huge"}), ("esphome", {"huge", "no_length"}),
    ("espressif", {"close_mid_part"}), ("esphome", {"close_mid_part", "truncated"}),
])
def test_bad_streams_never_crash_the_worker(serve, run_worker, flavour, faults):
    """Each connection brings some bad parts (one 50 MB part for "huge"), or ends mid-part."""
    server = serve(flavour, faults=faults, fps=25)
    sources: list[MjpegSource] = []

    def make_source() -> MjpegSource:
        sources.append(MjpegSource(server.url(), stall_timeout_s=3.0, connect_timeout_s=1.0))
        return sources[-1]

    worker = run_worker(make_source)
    assert wait_for(lambda: worker.status().frames_received >= 6
                    and sum(s.skipped for s in sources) >= 1, 20), worker.status()
    assert not worker.join(0), "the worker thread ended"
    assert "unexpected" not in (worker.status().last_error or "")


# -- capture mode ------------------------------------------------------------------------

@pytest.mark.parametrize("flavour", ["espressif", "esphome"])
def test_capture_mode_polls_single_jpegs(serve, run_worker, flavour):
    server = serve(flavour)
    source = MjpegSource(server.url("/capture"), mode="capture", fps=10)
    assert source.live is False
    source.open()
    try:
        frames = [source.read() for _ in range(3)]
        assert source.info() == SourceInfo(640, 480, 10)
    finally:
        source.close()
    assert [np.array_equal(f, expected_frame(i)) for i, f in enumerate(frames)] == [True] * 3
    assert len(server.requests) == server.frames_sent == 3
    assert server.requests[0][0] == "GET /capture HTTP/1.1"

    worker = run_worker(lambda: MjpegSource(server.url("/capture"), mode="capture", fps=20))
    assert wait_for(lambda: worker.status().frames_received >= 5, 10), worker.status()
    assert worker.status().state == ONLINE


# -- what the user reads when it goes wrong ----------------------------------------------

def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("case, expected", [
    ("bad scheme", "unsupported URL scheme 'rtsp'"),
    ("not a URL", "is not a full URL"),
    ("closed port", "connection refused"),
    ("unknown host", "the host name camera.invalid is not known"),  # RFC 6761: never resolves
    ("wrong password", "wrong user or password (HTTP 401)"),
    ("html page", "expected an MJPEG stream (multipart/x-mixed-replace), got text/html"),
    ("no answer", "accepted the connection but sent no answer within 1 s"),
    ("wrong path", "HTTP 404 Not Found"),
])
def test_errors_are_one_clear_sentence_without_the_password(serve, case, expected):
    auth = f"admin:{SECRET}@"
    if case == "bad scheme":
        url = f"rtsp://{auth}127.0.0.1/stream"
    elif case == "not a URL":
        url = f"{auth}cam.local:81/stream"
    elif case == "closed port":
        url = f"http://{auth}127.0.0.1:{closed_port()}/stream"
    elif case == "unknown host":
        url = f"http://{auth}camera.invalid:81/stream"
    else:
        faults = {"html page": {"wrong_type"}, "no answer": {"silent"}}.get(case, set())
        server = serve(faults=faults, auth=("admin", "other") if case == "wrong password" else None)
        url = server.url("/nothing" if case == "wrong path" else "/stream", "admin", SECRET)
    source = MjpegSource(url, connect_timeout_s=1.0, stall_timeout_s=1.0)
    with pytest.raises(SourceError) as caught:
        source.open()
    source.close()
    message = str(caught.value)
    assert expected in message
    assert_one_clear_sentence(message)
    assert SECRET not in source.describe()
