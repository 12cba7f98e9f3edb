"""MJPEG over HTTP: an ESP32-CAM (or any camera) serving ``multipart/x-mixed-replace``, read
by our own streaming HTTP/1.1 client on a raw socket; or single JPEGs polled from a URL such
as an ESP32-CAM's ``/capture``.

Every socket read waits at most until a deadline: the connect timeout for the answer's head,
``stall_timeout_s`` for each new frame. A camera that keeps the connection open but sends no
complete frame in time (a frozen ESP32-CAM, or one trickling bytes) raises StalledError.
Credentials in the URL go out as HTTP basic auth and never into a message: see ``redact``.
"""

from __future__ import annotations

import base64
import logging
import socket
import time
from collections import deque
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import cv2
import numpy as np

from affectra_edge.cameras.base import (
    FrameSource,
    SourceError,
    SourceInfo,
    StalledError,
    rate_per_s,
)
from affectra_edge.cameras.http_stream import (
    ByteReader,
    DeadlineSocket,
    MultipartReader,
    ProtocolError,
    ResponseHead,
    StreamClosed,
    body_reader,
    content_length,
    parse_content_type,
    read_response_head,
)
from affectra_edge.logs import redact

log = logging.getLogger(__name__)

MODES = ("stream", "capture")
CAPTURE_ATTEMPTS = 3  # unusable images in a row before a capture read() gives up


@dataclass(frozen=True)
class CameraUrl:
    host: str
    port: int
    target: str  # path and query, as sent in the request line
    host_header: str
    authorization: str | None  # "Basic ..." when the URL carries user:password
    safe: str  # the URL with credentials hidden, for messages


def safe_url(url: str) -> str:
    """The URL with credentials hidden, also when the scheme is missing (``user:pw@host``)."""
    if "://" not in url and "@" in url:
        return "***:***@" + url.rsplit("@", 1)[1]
    return redact(url)


def parse_camera_url(url: str) -> CameraUrl:
    """Split an ``http://[user:password@]host[:port]/path`` URL; SourceError when unusable."""
    safe = safe_url(url)
    if any(c in url for c in " \t\r\n"):
        raise SourceError(f"the camera URL {safe!r} contains spaces or line breaks")
    if "://" not in url:
        raise SourceError(f"{safe!r} is not a full URL: an MJPEG camera URL starts with http://")
    try:
        parts = urlsplit(url)
        port = parts.port or 80
    except ValueError:
        raise SourceError(f"{safe} is not a valid URL (check the host and the port)") from None
    if parts.scheme.lower() != "http":
        raise SourceError(f"unsupported URL scheme {parts.scheme!r} in {safe}: "
                          "an MJPEG camera URL starts with http://")
    host = parts.hostname
    if not host:
        raise SourceError(f"the URL {safe} has no host name")
    shown = f"[{host}]" if ":" in host else host
    authorization = None
    if parts.username is not None or parts.password is not None:
        pair = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}"
        authorization = "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return CameraUrl(host, port, target, shown if port == 80 else f"{shown}:{port}",
                     authorization, safe)


def decode_jpeg(data: bytes) -> np.ndarray | None:
    """A complete JPEG (SOI at the start, EOI near the end) as BGR, or None."""
    if len(data) < 4 or not data.startswith(b"\xff\xd8"):
        return None
    if data.rfind(b"\xff\xd9", max(0, len(data) - 64)) < 0:  # cut short
        return None
    try:
        return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    except cv2.error:
        return None


class MjpegSource(FrameSource):
    """An MJPEG camera over HTTP: ``mode="stream"`` reads ``multipart/x-mixed-replace``
    (live); ``mode="capture"`` requests one JPEG per ``read()``, paced by the worker at ``fps``.

    ``open()`` connects and waits for the first frame, so a camera that answers but sends no
    frame fails there. Unusable parts (too large, not a complete JPEG, stray bytes) are
    counted in ``skipped`` with the reason in ``last_skip``, and reading goes on.
    """

    def __init__(self, url: str, mode: str = "stream", fps: float = 5.0,
                 connect_timeout_s: float = 5.0, stall_timeout_s: float = 5.0,
                 max_frame_bytes: int = 2_000_000):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        self.url, self.mode, self.fps = url, mode, fps
        self.connect_timeout_s = connect_timeout_s
        self.stall_timeout_s = stall_timeout_s
        self.max_frame_bytes = max_frame_bytes
        self.live = mode == "stream"
        self.interruptible = True  # close() shuts the socket down, waking a blocked read
        self.skipped = 0
        self.last_skip: str | None = None
        self._address: CameraUrl | None = None
        self._conn: DeadlineSocket | None = None
        self._parts: MultipartReader | None = None
        self._pending: np.ndarray | None = None
        self._size = (0, 0)
        self._arrivals: deque[float] = deque(maxlen=30)

    def describe(self) -> str:
        return f"MJPEG {self.mode} {safe_url(self.url)}"

    def open(self) -> None:
        self.close()
        self._address = parse_camera_url(self.url)
        try:
            if self.mode == "capture":
                self._pending = self._capture()
            else:
                self._pending = self._open_stream()
        except BaseException:
            self.close()
            raise

    def read(self) -> np.ndarray:
        if self._pending is not None:
            image, self._pending = self._pending, None
            return image
        if self._address is None or (self.mode == "stream" and self._parts is None):
            raise SourceError(f"{self.describe()}: read before open")
        try:
            return self._capture() if self.mode == "capture" else self._next_frame()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        conn, self._conn = self._conn, None
        self._parts = None
        self._pending = None
        if conn is not None:
            conn.close()

    def info(self) -> SourceInfo:
        fps = self.fps if self.mode == "capture" else 0.0
        if self.mode == "stream":
            fps = round(rate_per_s(list(self._arrivals)), 2)
        return SourceInfo(self._size[0], self._size[1], fps)

    # -- stream mode ----------------------------------------------------------------------

    def _open_stream(self) -> np.ndarray:
        reader, head = self._request()
        safe = self._address.safe
        mime, params = parse_content_type(head.header("content-type"))
        if not mime.startswith("multipart/"):
            hint = " (a single-image URL such as /capture needs the capture mode)" \
                if mime.startswith("image/") else ""
            raise SourceError("expected an MJPEG stream (multipart/x-mixed-replace), got "
                              f"{mime or 'no content type'} from {safe}{hint}")
        boundary = params.get("boundary", "").strip()
        if not boundary.strip("-"):
            raise SourceError(f"{safe} sent {mime} without a boundary parameter")
        self._parts = MultipartReader(body_reader(reader, head), boundary, self.max_frame_bytes)
        return self._next_frame()

    def _next_frame(self) -> np.ndarray:
        parts, safe = self._parts, self._address.safe
        self._conn.expect_within(self.stall_timeout_s, self._stalled)
        while True:
            try:
                part = parts.next_part()
            except StreamClosed as exc:
                if parts.in_part:
                    self._skip("the connection closed in the middle of a frame")
                detail = f" ({exc})" if str(exc) else ""
                raise SourceError(f"{safe} closed the stream{detail}") from None
            except ProtocolError as exc:
                raise SourceError(f"{safe} sent a malformed stream ({exc})") from None
            if part.garbage_bytes:
                self._skip(f"{part.garbage_bytes} stray bytes before a part")
            if part.data is None:
                self._skip(part.problem or "an unusable part")
                continue
            image = decode_jpeg(part.data)
            if image is None:
                self._skip(f"a {part.size}-byte part is not a complete JPEG image")
                continue
            return self._arrived(image)

    # -- capture mode ---------------------------------------------------------------------

    def _capture(self) -> np.ndarray:
        for _ in range(CAPTURE_ATTEMPTS):
            try:
                data = self._capture_bytes()
            finally:
                self.close()
            image = decode_jpeg(data) if data is not None else None
            if image is not None:
                return self._arrived(image)
            if data is not None:
                self._skip(f"a {len(data)}-byte capture is not a complete JPEG image")
        raise SourceError(f"{CAPTURE_ATTEMPTS} captures in a row from {self._address.safe} "
                          f"were unusable (last: {self.last_skip})")

    def _capture_bytes(self) -> bytes | None:
        reader, head = self._request()
        mime, _ = parse_content_type(head.header("content-type"))
        if not mime.startswith("image/"):
            raise SourceError(f"expected a JPEG image (image/jpeg), got "
                              f"{mime or 'no content type'} from {self._address.safe}")
        length = content_length(head.headers)
        if length is not None and length > self.max_frame_bytes:
            self._skip(f"a {length}-byte capture is larger than max_frame_bytes "
                       f"({self.max_frame_bytes})")
            return None
        self._conn.expect_within(self.stall_timeout_s, self._stalled)
        data, _ = body_reader(reader, head).read_to_end(self.max_frame_bytes)
        if data is None:
            self._skip(f"a capture of more than {self.max_frame_bytes} bytes (max_frame_bytes)")
        return data

    # -- shared ---------------------------------------------------------------------------

    def _request(self) -> tuple[ByteReader, ResponseHead]:
        """Connect, send the GET, and read the answer's head; SourceError unless HTTP 200."""
        address = self._address
        self._conn = DeadlineSocket(self._connect(address))
        accept = "image/jpeg" if self.mode == "capture" else "multipart/x-mixed-replace, image/jpeg"
        lines = [f"GET {address.target} HTTP/1.1", f"Host: {address.host_header}",
                 f"Accept: {accept}", "User-Agent: affectra-edge", "Connection: close"]
        if address.authorization:
            lines.append(f"Authorization: {address.authorization}")
        try:
            self._conn.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        except OSError as exc:
            raise SourceError(f"lost the connection to {address.safe} while asking for "
                              f"frames ({exc.strerror or exc})") from None
        self._conn.expect_within(self.connect_timeout_s, self._no_answer)
        reader = ByteReader(self._conn)
        try:
            head = read_response_head(reader)
        except StreamClosed:
            raise SourceError(f"{address.safe} closed the connection without an answer") from None
        except ProtocolError as exc:
            raise SourceError(f"{address.safe} did not answer with HTTP ({exc})") from None
        self._check_status(head)
        return reader, head

    def _connect(self, address: CameraUrl) -> socket.socket:
        where = f"cannot connect to {address.safe}"
        try:
            return socket.create_connection((address.host, address.port),
                                            timeout=self.connect_timeout_s)
        except socket.gaierror:
            raise SourceError(f"{where}: the host name {address.host} is not known") from None
        except TimeoutError:
            raise SourceError(f"{where}: no answer within {self.connect_timeout_s:g} s") from None
        except ConnectionRefusedError:
            raise SourceError(f"{where}: connection refused (is the camera on and the "
                              "port right?)") from None
        except OSError as exc:
            raise SourceError(f"{where}: {(exc.strerror or str(exc)).lower()}") from None

    def _check_status(self, head: ResponseHead) -> None:
        safe, status = self._address.safe, head.status
        if status == 200:
            return
        if status == 401 and self._address.authorization:
            raise SourceError(f"wrong user or password (HTTP 401) for {safe}")
        if status == 401:
            raise SourceError(f"the camera asks for a user and password (HTTP 401) and {safe} "
                              "has none")
        if 300 <= status < 400:
            location = redact(head.header("location")) or "another address"
            raise SourceError(f"{safe} redirects to {location} (HTTP {status}); "
                              "use that URL instead")
        raise SourceError(f"the camera answered HTTP {status} {head.reason}".rstrip()
                          + f" for {safe}")

    def _no_answer(self) -> SourceError:
        hint = " (an ESP32-CAM serves one stream client at a time)" \
            if self.mode == "stream" else ""
        return SourceError(f"{self._address.safe} accepted the connection but sent no answer "
                           f"within {self.connect_timeout_s:g} s{hint}")

    def _stalled(self) -> StalledError:
        return StalledError(f"no new frame for {self.stall_timeout_s:g} s from "
                            f"{self._address.safe}")

    def _skip(self, reason: str) -> None:
        self.skipped += 1
        self.last_skip = reason
        level = logging.WARNING if self.skipped in (1, 10, 100) or self.skipped % 1000 == 0 \
            else logging.DEBUG
        log.log(level, "%s: %d unusable part(s) skipped (last: %s)", self.describe(),
                self.skipped, reason)

    def _arrived(self, image: np.ndarray) -> np.ndarray:
        self._size = (image.shape[1], image.shape[0])
        self._arrivals.append(time.monotonic())
        return image
