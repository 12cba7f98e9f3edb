"""Ask an RTSP server about a stream before OpenCV opens it, to say clearly what is wrong.

OpenCV's FFmpeg backend only tells us "cannot open". One DESCRIBE request tells apart: no
server at that address, a stream that needs a user and password, a path the server does not
know, and something that is not an RTSP server at all. Digest authentication is left to
FFmpeg (which speaks it): a 401 after Basic credentials is not taken as a wrong password when
the server asked for Digest.
"""

from __future__ import annotations

import base64
import socket
from urllib.parse import unquote, urlsplit

from affectra_edge.cameras.base import SourceError
from affectra_edge.logs import redact


def check_rtsp(url: str, timeout_s: float) -> None:
    """Raise SourceError with one clear sentence when the stream clearly cannot be opened."""
    shown = redact(url)
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or (322 if parts.scheme == "rtsps" else 554)
    if parts.scheme == "rtsps":
        return  # TLS: leave the handshake to FFmpeg
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as sock:
            sock.settimeout(timeout_s)
            sock.sendall(_describe(url, parts.username, parts.password))
            reply = sock.recv(4096).decode("latin-1", "replace")
    except socket.gaierror:
        raise SourceError(f"cannot connect to {shown}: unknown host {host!r}") from None
    except ConnectionRefusedError:
        raise SourceError(f"cannot connect to {shown}: connection refused (is the camera on "
                          "and the port right?)") from None
    except TimeoutError:
        raise SourceError(f"cannot connect to {shown}: no answer within {timeout_s:g} s") from None
    except OSError as exc:
        raise SourceError(f"cannot connect to {shown}: {exc.strerror or exc}") from None
    status_line, _, headers = reply.partition("\r\n")
    fields = status_line.split(" ", 2)
    if len(fields) < 2 or not fields[0].startswith("RTSP/") or not fields[1].isdigit():
        raise SourceError(f"{shown} did not answer as an RTSP server")
    status = int(fields[1])
    if status == 401:
        digest = "digest" in headers.lower()
        if parts.username is None:
            raise SourceError(f"{shown} needs a user and password (RTSP 401)")
        if not digest:
            raise SourceError(f"{shown}: wrong user or password (RTSP 401)")
    elif status == 404:
        raise SourceError(f"{shown}: the camera has no stream at {parts.path or '/'} (RTSP 404)")
    elif status >= 400:
        reason = fields[2] if len(fields) > 2 else ""
        raise SourceError(f"{shown}: the camera refused the stream (RTSP {status} {reason})")


def _describe(url: str, user: str | None, password: str | None) -> bytes:
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    clean = parts._replace(netloc=netloc).geturl()
    lines = [f"DESCRIBE {clean} RTSP/1.0", "CSeq: 1", "Accept: application/sdp",
             "User-Agent: affectra"]
    if user is not None:
        token = base64.b64encode(f"{unquote(user)}:{unquote(password or '')}".encode()).decode()
        lines.append(f"Authorization: Basic {token}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
