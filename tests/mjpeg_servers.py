"""Real HTTP servers on loopback that talk like ESP32-CAM firmware, byte for byte, and
misbehave on request.

Each :class:`CameraServer` listens on a free port of 127.0.0.1 with a raw socket, serves
every client on its own thread, and speaks one flavour:

- ``espressif``: Espressif's CameraWebServer example (``app_httpd.cpp``) on ESP-IDF's httpd.
  ``/stream`` answers ``HTTP/1.1 200 OK``, ``Content-Type: multipart/x-mixed-replace;
  boundary=...``, ``Transfer-Encoding: chunked``, ``Access-Control-Allow-Origin: *``,
  ``X-Framerate: 60``; every frame goes out as three ``httpd_resp_send_chunk`` calls:
  ``\\r\\n--<boundary>\\r\\n``, the part headers (``Content-Type``, ``Content-Length``,
  ``X-Timestamp`` as seconds.microseconds since boot), the JPEG. Each chunk is written as
  httpd does: hex size line, data, CRLF. No closing boundary. ``/capture`` is one
  ``image/jpeg`` with ``Content-Length`` and ``Content-Disposition: inline;
  filename=capture.jpg``, and the connection then stays open as httpd keeps it.
- ``esphome``: ESPHome's ``esp32_camera_web_server``: a hand-written ``HTTP/1.0 200 OK``
  head with ``Connection: close`` and the first ``--<boundary>\\r\\n``, then per frame the part
  headers (no ``X-Timestamp``), the JPEG, and ``\\r\\n--<boundary>\\r\\n``; not chunked.
  (ESPHome's source uses the same boundary string as Espressif; pass another to check that a
  reader takes it from the header.)
- ``plain``: the common hand-rolled sketch: ``HTTP/1.1``, ``boundary=frame``, parts with only
  ``Content-Type`` (no ``Content-Length``), each JPEG followed by a CRLF.

The frames are real JPEGs of faces (``static_scene``). ``faults`` picks misbehaviour:
``garbage``, ``truncated``, ``huge`` (a 50 MB part, streamed from one 1 MB block),
``close_mid_part``, ``no_length``, ``extra_headers``, ``wrong_type`` (text/html),
``trickle`` (after ``freeze_after`` frames, one byte every 0.2 s) and ``silent`` (accept,
never answer). ``auth=(user, password)`` answers 401 unless basic auth matches.
``freeze()``/``resume()`` (or ``freeze_after``) stop every stream mid-frame with the socket
left open, as a real ESP32-CAM does.
"""

from __future__ import annotations

import base64
import random
import socket
import threading
import time
from functools import cache

import cv2

from affectra_edge.cameras.scene import static_scene

ESPRESSIF_BOUNDARY = "123456789000000000000987654321"
FAULTS = frozenset({"garbage", "truncated", "huge", "close_mid_part", "no_length",
                    "extra_headers", "wrong_type", "trickle", "silent"})
HUGE_PART_BYTES = 50 * 1024 * 1024
_BLOCK = 1024 * 1024


@cache
def face_jpegs() -> tuple[bytes, ...]:
    """Three distinct JPEG frames with one, two and three real faces."""
    return tuple(cv2.imencode(".jpg", static_scene(n), [cv2.IMWRITE_JPEG_QUALITY, 80])[1]
                 .tobytes() for n in (1, 2, 3))


def chunk(data: bytes) -> list[bytes]:
    """One ``httpd_resp_send_chunk``: size line, data, CRLF, written separately as httpd does."""
    return [b"%x\r\n" % len(data), data, b"\r\n"]


class CameraServer:
    def __init__(self, flavour: str = "espressif", *, boundary: str | None = None,
                 content_type: str | None = None, fps: float = 20.0,
                 frame_limit: int | None = None, faults: tuple[str, ...] | set[str] = (),
                 auth: tuple[str, str] | None = None, freeze_after: int | None = None):
        assert flavour in ("espressif", "esphome", "plain"), flavour
        assert FAULTS.issuperset(faults), set(faults) - FAULTS
        self.flavour = flavour
        self.boundary = boundary or ("frame" if flavour == "plain" else ESPRESSIF_BOUNDARY)
        space = " " if flavour == "plain" else ""
        self.content_type = content_type or \
            f"multipart/x-mixed-replace;{space}boundary={self.boundary}"
        self.period_s = 1.0 / fps
        self.frame_limit = frame_limit  # frames per connection, then the server closes it
        self.faults = frozenset(faults)
        self.auth = auth
        self.freeze_after = freeze_after  # total good frames before freezing
        self.frames_sent = 0  # complete good frames (stream parts and captures), all clients
        self.connections = 0
        self.requests: list[tuple[str, dict[str, str]]] = []  # (request line, headers)
        self.frozen = threading.Event()
        self._stop = threading.Event()
        self._boot = time.monotonic()
        self._lock = threading.Lock()
        self._clients: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]

    def url(self, path: str = "/stream", user: str | None = None,
            password: str | None = None) -> str:
        auth = f"{user}:{password}@" if user is not None else ""
        return f"http://{auth}127.0.0.1:{self.port}{path}"

    def start(self) -> CameraServer:
        self._spawn(self._accept_loop)
        return self

    def stop(self) -> None:
        self._stop.set()
        self.frozen.clear()
        with self._lock:
            for client in self._clients:
                try:
                    client.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        for thread in list(self._threads):
            thread.join(5)
        self._listener.close()

    def freeze(self) -> None:
        self.frozen.set()

    def resume(self) -> None:
        self.freeze_after = None
        self.frozen.clear()

    # -- plumbing -------------------------------------------------------------------------

    def _spawn(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True,
                                  name=f"camera-server-{self.port}")
        self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
                self._clients.append(client)
            self._spawn(self._serve, client)

    def _serve(self, client: socket.socket) -> None:
        try:
            client.settimeout(5.0)
            request = self._read_request(client)
            if request is None:
                return
            line, headers = request
            self.requests.append((line, headers))
            if "silent" in self.faults:
                self._stop.wait(30)
            elif self.auth and headers.get("authorization") != _basic(*self.auth):
                self._send_401(client)
            elif "wrong_type" in self.faults:
                page = b"<!doctype html><title>ESP32 OV2640</title><p>camera index</p>"
                client.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                               b"Content-Length: %d\r\n\r\n%s" % (len(page), page))
            elif line.split()[1].startswith("/capture"):
                self._send_capture(client)
            elif line.split()[1].startswith("/stream"):
                self._send_stream(client)
            else:
                client.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\n"
                               b"Content-Length: 9\r\n\r\nNot Found")
        except OSError:
            pass  # the client went away
        finally:
            with self._lock:
                self._clients.remove(client)
            client.close()

    @staticmethod
    def _read_request(client: socket.socket) -> tuple[str, dict[str, str]] | None:
        data = b""
        while b"\r\n\r\n" not in data:
            piece = client.recv(4096)
            if not piece or len(data) > 16384:
                return None
            data += piece
        line, *rest = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
        headers = {}
        for header in rest:
            name, _, value = header.partition(":")
            headers[name.strip().lower()] = value.strip()
        return line, headers

    def _send_401(self, client: socket.socket) -> None:
        body = b"No permission -- see authorization schemes"
        client.sendall(b"HTTP/1.1 401 Unauthorized\r\nContent-Type: text/html\r\n"
                       b"Content-Length: %d\r\nWWW-Authenticate: Basic realm=\"ESP32-CAM\"\r\n"
                       b"\r\n%s" % (len(body), body))

    def _timestamp(self) -> str:
        since_boot = time.monotonic() - self._boot
        return f"{int(since_boot)}.{int(since_boot % 1 * 1e6):06d}"

    def _send_capture(self, client: socket.socket) -> None:
        with self._lock:  # counted before sending: the client may ask again at once
            jpeg = face_jpegs()[self.frames_sent % 3]
            self.frames_sent += 1
        extra = "" if self.flavour == "esphome" else \
            f"Access-Control-Allow-Origin: *\r\nX-Timestamp: {self._timestamp()}\r\n"
        client.sendall((f"HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\n"
                        f"Content-Length: {len(jpeg)}\r\n"
                        f"Content-Disposition: inline; filename=capture.jpg\r\n{extra}\r\n")
                       .encode() + jpeg)
        client.settimeout(2.0)
        try:  # httpd keeps the connection; the client closes it
            while not self._stop.is_set() and client.recv(4096):
                pass
        except OSError:
            pass

    # -- the stream -----------------------------------------------------------------------

    def _send_stream(self, client: socket.socket) -> None:
        self._write(client, [self._stream_head()], raw=True)
        index = 0
        while not self._stop.is_set():
            if self.frame_limit is not None and index >= self.frame_limit:
                if self.flavour == "plain":  # without Content-Length a part ends at a boundary
                    self._write(client, [f"--{self.boundary}--\r\n".encode()])
                return
            if self.freeze_after is not None and self.frames_sent >= self.freeze_after:
                if "trickle" in self.faults:
                    return self._trickle(client)
                self.frozen.set()
            jpeg = face_jpegs()[index % 3]
            if self.frozen.is_set():
                return self._freeze_mid_frame(client, jpeg)
            if "close_mid_part" in self.faults and index == 2:
                self._write(client, self._part_start(len(jpeg), index) + [jpeg[:len(jpeg) // 2]])
                return
            self._send_faults_before(client, index)
            self._write(client, self._part(jpeg, index))
            self.frames_sent += 1
            index += 1
            if self._stop.wait(self.period_s):
                return

    def _stream_head(self) -> bytes:
        if self.flavour == "espressif":  # ESP-IDF httpd: essential headers, then set ones
            return (f"HTTP/1.1 200 OK\r\nContent-Type: {self.content_type}\r\n"
                    "Transfer-Encoding: chunked\r\nAccess-Control-Allow-Origin: *\r\n"
                    "X-Framerate: 60\r\n\r\n").encode()
        if self.flavour == "esphome":
            return (f"HTTP/1.0 200 OK\r\nAccess-Control-Allow-Origin: *\r\n"
                    f"Connection: close\r\nContent-Type: {self.content_type}\r\n\r\n"
                    f"--{self.boundary}\r\n").encode()
        return f"HTTP/1.1 200 OK\r\nContent-Type: {self.content_type}\r\n\r\n".encode()

    def _write(self, client: socket.socket, pieces, raw: bool = False) -> None:
        """Send pieces as the flavour does: each one a chunk for espressif, else as is."""
        for piece in pieces:
            for data in (chunk(piece) if self.flavour == "espressif" and not raw else [piece]):
                client.sendall(data)

    def _part_headers(self, length: int | None, index: int) -> bytes:
        headers = [("Content-Type", "image/jpeg")]
        if length is not None and self.flavour != "plain" and "no_length" not in self.faults:
            headers.append(("Content-Length", str(length)))
        if self.flavour == "espressif":
            headers.append(("X-Timestamp", self._timestamp()))
        if "extra_headers" in self.faults:
            headers = [("cache-control", "no-cache, no-store"), ("X-Frame-Index", str(index)),
                       *[(name.upper(), f"  {value}  ") for name, value in headers],
                       ("X-Folded", "first half\r\n\tsecond half")]
        return "".join(f"{name}: {value}\r\n" for name, value in headers).encode() + b"\r\n"

    def _part_start(self, length: int | None, index: int) -> list[bytes]:
        """What goes before a part's body: its boundary line (unless the previous part's
        trailer carried it) and its headers."""
        headers = self._part_headers(length, index)
        if self.flavour == "espressif":
            return [f"\r\n--{self.boundary}\r\n".encode(), headers]
        if self.flavour == "plain":
            return [f"--{self.boundary}\r\n".encode() + headers]
        return [headers]

    def _part_end(self) -> list[bytes]:
        if self.flavour == "esphome":
            return [f"\r\n--{self.boundary}\r\n".encode()]
        return [b"\r\n"] if self.flavour == "plain" else []

    def _part(self, body: bytes, index: int, declared: int | None = None) -> list[bytes]:
        length = len(body) if declared is None else declared
        return self._part_start(length, index) + [body] + self._part_end()

    def _stray(self, data: bytes) -> list[bytes]:
        """Bytes between two parts, followed by what lets a reader find the next one."""
        return [data] + self._part_end()

    def _send_faults_before(self, client: socket.socket, index: int) -> None:
        rng = random.Random(index)
        if "garbage" in self.faults and index % 3 == 1:
            self._write(client, self._stray(rng.randbytes(4000)))
            self._write(client, self._part(rng.randbytes(3000), index))
        if "truncated" in self.faults and index % 3 == 2:
            jpeg = face_jpegs()[index % 3]
            cut = jpeg[:len(jpeg) // 2]
            lying = (index // 3) % 2 == 1  # Content-Length of the whole, body cut short
            self._write(client, self._part(cut, index, len(jpeg) if lying else None))
        if "huge" in self.faults and index == 1:
            self._send_huge_part(client, index)

    def _send_huge_part(self, client: socket.socket, index: int) -> None:
        block = bytes(range(256)) * (_BLOCK // 256)
        self._write(client, self._part_start(HUGE_PART_BYTES, index))
        self._write(client, [b"\xff\xd8" + block[2:]])
        for _ in range(HUGE_PART_BYTES // _BLOCK - 1):
            if self._stop.is_set():
                return
            self._write(client, [block])
        self._write(client, self._part_end())

    def _freeze_mid_frame(self, client: socket.socket, jpeg: bytes) -> None:
        self._write(client, self._part_start(len(jpeg), 0) + [jpeg[:len(jpeg) // 2]])
        while self.frozen.is_set() and not self._stop.wait(0.05):
            pass  # the socket stays open, silent, until resumed; then this client is dropped

    def _trickle(self, client: socket.socket) -> None:
        jpeg = face_jpegs()[0]
        self._write(client, self._part_start(len(jpeg), 0))
        for byte in jpeg:
            if self._stop.wait(0.2):
                return
            self._write(client, [bytes([byte])])


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
