"""Byte-level parsing of what a camera sends: an HTTP/1.x answer, a chunked body, and
``multipart/x-mixed-replace`` parts.

Everything reads through :class:`ByteReader`, which wraps any object with ``read(n)``
returning up to ``n`` bytes (``b""`` at the end): a :class:`DeadlineSocket` in the MJPEG
source, ``io.BytesIO`` in tests. Memory stays bounded: lines and header blocks have caps, and a part
larger than the limit is discarded while it is read, never held whole.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

from affectra_edge.cameras.base import SourceError

MAX_LINE_BYTES = 8192
MAX_HEADER_LINES = 100
READ_SIZE = 65536
_STATUS_LINE = re.compile(rb"HTTP/(\d)\.(\d)\s+(\d{3})(?:\s+(.*))?")
_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,16}")


class StreamClosed(SourceError):
    """The connection or the body ended."""


class ProtocolError(SourceError):
    """The bytes are not the HTTP or multipart framing expected."""


class ByteReader:
    """A buffer over ``source.read(n)``; every read waits for no more data than it needs."""

    def __init__(self, source, read_size: int = READ_SIZE):
        self._source = source
        self._buf = bytearray()
        self._read_size = read_size

    def _fill(self) -> None:
        data = self._source.read(self._read_size)
        if not data:
            raise StreamClosed()
        self._buf += data

    def read(self, max_bytes: int) -> bytes:
        """Up to ``max_bytes`` bytes: what is buffered, or one read from the source."""
        if not self._buf:
            self._fill()
        data = bytes(self._buf[:max_bytes])
        del self._buf[:max_bytes]
        return data

    def readline(self, max_bytes: int = MAX_LINE_BYTES) -> bytes:
        """One line with its ``\\n``; a longer line raises ProtocolError and is left unread."""
        start = 0
        while (end := self._buf.find(b"\n", start)) < 0:
            if len(self._buf) > max_bytes:
                raise ProtocolError(f"a line longer than {max_bytes} bytes")
            start = len(self._buf)
            self._fill()
        if end >= max_bytes:
            raise ProtocolError(f"a line longer than {max_bytes} bytes")
        line = bytes(self._buf[:end + 1])
        del self._buf[:end + 1]
        return line

    def read_exact(self, size: int) -> bytes:
        while len(self._buf) < size:
            self._fill()
        data = bytes(self._buf[:size])
        del self._buf[:size]
        return data

    def discard(self, size: int) -> None:
        """Skip ``size`` bytes without holding more than one read of them."""
        while size > 0:
            size -= len(self.read(min(size, self._read_size)))

    def read_until(self, delimiter: bytes, max_bytes: int) -> tuple[bytes | None, int]:
        """The bytes before ``delimiter`` (left unread) and their count; None instead of the
        bytes when there are more than ``max_bytes``, which are then discarded as they come."""
        kept, total, overflow = bytearray(), 0, False
        while True:
            found = self._buf.find(delimiter)
            take = found if found >= 0 else max(0, len(self._buf) - len(delimiter) + 1)
            if take:
                total += take
                if not overflow:
                    kept += self._buf[:take]
                    overflow = len(kept) > max_bytes
                    if overflow:
                        kept = bytearray()
                del self._buf[:take]
            if found >= 0:
                return (None if overflow else bytes(kept)), total
            self._fill()

    def read_to_end(self, max_bytes: int) -> tuple[bytes | None, int]:
        """Everything until the end, as ``read_until`` does for a delimiter."""
        kept, total = bytearray(), 0
        try:
            while True:
                data = self.read(self._read_size)
                total += len(data)
                if len(kept) <= max_bytes:
                    kept += data
        except StreamClosed:
            return (bytes(kept) if total <= max_bytes else None), total

    def unread(self, data: bytes) -> None:
        self._buf[:0] = data


class DeadlineSocket:
    """A connected socket read as a file. Each ``read()`` waits only until the deadline set
    by ``expect_within`` and then raises what ``on_timeout`` makes, so bytes trickling in
    cannot stretch the wait for a whole frame."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.deadline = time.monotonic()
        self.on_timeout: Callable[[], SourceError] = lambda: SourceError("timed out")

    def expect_within(self, seconds: float, on_timeout: Callable[[], SourceError]) -> None:
        self.deadline = time.monotonic() + seconds
        self.on_timeout = on_timeout

    def read(self, max_bytes: int) -> bytes:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise self.on_timeout()
        try:
            self.sock.settimeout(remaining)
            return self.sock.recv(max_bytes)
        except TimeoutError:
            raise self.on_timeout() from None
        except OSError as exc:  # reset by the peer, or closed under us
            raise StreamClosed(f"the connection broke ({exc.strerror or exc})") from None

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes a recv() blocked in another thread
        except OSError:
            pass
        self.sock.close()


class ChunkedBody:
    """``Transfer-Encoding: chunked`` decoded as a file: ``read(n)``, ``b""`` after the last
    chunk. Chunk extensions and trailers are ignored."""

    def __init__(self, raw: ByteReader):
        self._raw = raw
        self._left = 0
        self._started = False
        self._done = False

    def read(self, max_bytes: int) -> bytes:
        if self._done:
            return b""
        if self._left == 0:
            if self._started and self._raw.readline().strip():
                raise ProtocolError("a chunk did not end where its size said")
            self._started = True
            line = self._raw.readline()
            size_text = line.split(b";", 1)[0].strip()
            if not _CHUNK_SIZE.fullmatch(size_text):
                raise ProtocolError(f"a bad chunk size line {line[:40]!r}")
            self._left = int(size_text, 16)
            if self._left == 0:
                while self._raw.readline().strip():  # trailers
                    pass
                self._done = True
                return b""
        data = self._raw.read(min(max_bytes, self._left))
        self._left -= len(data)
        return data


class LimitedBody:
    """A body of known ``Content-Length`` as a file."""

    def __init__(self, raw: ByteReader, length: int):
        self._raw, self._left = raw, length

    def read(self, max_bytes: int) -> bytes:
        if self._left <= 0:
            return b""
        data = self._raw.read(min(max_bytes, self._left))
        self._left -= len(data)
        return data


@dataclass(frozen=True)
class ResponseHead:
    version: str  # "1.1"
    status: int
    reason: str
    headers: dict[str, str]  # lower-case names; repeated names joined with ", "

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


def read_headers(reader: ByteReader) -> dict[str, str]:
    """Header lines up to the blank line; names lower-cased, folded lines joined."""
    headers: dict[str, str] = {}
    last = None
    for _ in range(MAX_HEADER_LINES):
        line = reader.readline().decode("latin-1")
        if not line.strip():
            return headers
        if line[0] in " \t" and last is not None:  # obsolete line folding
            headers[last] += " " + line.strip()
            continue
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            # Never quote the bytes: out of step, they may be image data.
            raise ProtocolError(f"a header line without a name ({len(line)} bytes)")
        last = name.strip().lower()
        value = value.strip()
        headers[last] = f"{headers[last]}, {value}" if last in headers else value
    raise ProtocolError(f"more than {MAX_HEADER_LINES} header lines")


def read_response_head(reader: ByteReader) -> ResponseHead:
    line = reader.readline()
    while not line.strip():  # tolerate stray blank lines before the status line
        line = reader.readline()
    match = _STATUS_LINE.fullmatch(line.strip())
    if not match:
        raise ProtocolError(f"the answer does not start with an HTTP status line: {line[:40]!r}")
    major, minor, status, reason = match.groups()
    return ResponseHead(f"{major.decode()}.{minor.decode()}", int(status),
                        (reason or b"").decode("latin-1").strip(), read_headers(reader))


def parse_content_type(value: str) -> tuple[str, dict[str, str]]:
    """``'multipart/x-mixed-replace; boundary="x"'`` -> ``('multipart/x-mixed-replace',
    {'boundary': 'x'})``; the type lower-cased, parameter values unquoted."""
    mime, *params = value.split(";")
    found = {}
    for param in params:
        name, _, param_value = param.partition("=")
        param_value = param_value.strip()
        if len(param_value) >= 2 and param_value[0] == param_value[-1] == '"':
            param_value = param_value[1:-1]
        found[name.strip().lower()] = param_value
    return mime.strip().lower(), found


def content_length(headers: dict[str, str]) -> int | None:
    """The ``Content-Length`` as a number, or None when missing or not a number."""
    value = headers.get("content-length", "").split(",")[0].strip()
    return int(value) if value.isdigit() else None


def body_reader(raw: ByteReader, head: ResponseHead) -> ByteReader:
    """The response body (after the head has been read from ``raw``) as its own reader."""
    if "chunked" in head.header("transfer-encoding").lower():
        return ByteReader(ChunkedBody(raw))
    length = content_length(head.headers)
    if length is not None:
        return ByteReader(LimitedBody(raw, length))
    return raw  # until the server closes the connection


@dataclass(frozen=True)
class Part:
    """One part of a multipart stream. ``data`` is None when ``problem`` says it was
    discarded; ``garbage_bytes`` counts stray bytes skipped before its boundary."""

    headers: dict[str, str]
    data: bytes | None
    size: int
    garbage_bytes: int = 0
    problem: str | None = None


class MultipartReader:
    """Parts of a ``multipart/x-mixed-replace`` body, one per ``next_part()``.

    The boundary may come with or without the leading ``--`` that some cameras put in the
    header parameter; no closing boundary is needed. A part's ``Content-Length`` is used when
    present, otherwise the part runs to the next boundary line.
    """

    def __init__(self, body: ByteReader, boundary: str, max_part_bytes: int):
        boundary = boundary.strip()
        boundary = boundary.removeprefix("--")
        if not boundary:
            raise ProtocolError("an empty multipart boundary")
        self._body = body
        self._dash_boundary = b"--" + boundary.encode("latin-1")
        self.max_part_bytes = max_part_bytes
        self.in_part = False  # between a boundary line and the end of that part's body
        self._resyncing = False  # after a part with unreadable headers

    def next_part(self) -> Part:
        garbage = self._skip_to_boundary()
        if self._resyncing:  # the rest of the bad part: already counted with it
            garbage, self._resyncing = 0, False
        try:  # the part has begun once its first line is here
            self._body.unread(self._body.readline())
        except ProtocolError:
            pass
        self.in_part = True
        try:
            headers = read_headers(self._body)
        except ProtocolError as exc:
            self.in_part, self._resyncing = False, True
            return Part({}, None, 0, garbage, f"unreadable part headers ({exc})")
        part = self._read_body(headers, garbage)
        self.in_part = False
        return part

    def _skip_to_boundary(self) -> int:
        """Consume up to and including the next boundary line; count stray bytes on the way."""
        garbage = 0
        while True:
            before, skipped = self._body.read_until(self._dash_boundary, 64)
            if before is None or before.strip(b" \t\r\n-"):
                garbage += skipped
            self._body.discard(len(self._dash_boundary))
            try:
                rest = self._body.readline()
            except ProtocolError:  # "--boundary" followed by binary: not a boundary line
                garbage += len(self._dash_boundary)
                continue
            if rest.startswith(b"--"):
                raise StreamClosed("the stream ended with a closing boundary")
            if not rest.strip():
                return garbage
            garbage += len(self._dash_boundary) + len(rest)

    def _read_body(self, headers: dict[str, str], garbage: int) -> Part:
        limit = self.max_part_bytes
        length = content_length(headers)
        if length is not None and length > limit:
            self._body.discard(length)
            return Part(headers, None, length, garbage,
                        f"a {length}-byte part is larger than max_frame_bytes ({limit})")
        if length is not None:
            data = self._body.read_exact(length)
            cut = data.find(self._dash_boundary)
            if cut < 0:
                return Part(headers, data, length, garbage)
            # The next boundary came early: the part was shorter than its Content-Length.
            self._body.unread(data[cut:])
            data = data[:cut].rstrip(b"\r\n")
            return Part(headers, None, len(data), garbage,
                        f"a part ended after {len(data)} of its {length} bytes")
        data, size = self._body.read_until(self._dash_boundary, limit + 2)
        if data is not None:
            data = data.rstrip(b"\r\n-")  # the line break (and stray dashes) before "--"
        if data is None or len(data) > limit:
            return Part(headers, None, size, garbage,
                        f"a part of more than {limit} bytes (max_frame_bytes) without "
                        "Content-Length")
        return Part(headers, data, size, garbage)
