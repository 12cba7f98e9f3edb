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
    """Raise SourceError with one clear sentence when the stream clearly cannot be opened.

    The first DESCRIBE carries no credentials. Only when the camera answers 401 and offers
    Basic (not Digest) authentication are they sent, as FFmpeg would send them anyway.
    """
    shown = redact(url)
    parts = urlsplit(url)
    if parts.scheme == "rtsps":
        return  # TLS: leave the handshake to FFmpeg
    status, reason, headers = _ask(url, None, None, timeout_s)
    if status == 401:
        offers = headers.get("www-authenticate", "").lower()
        if parts.username is None:
            raise SourceError(f"{shown} needs a user and password (RTSP 401)")
        if "basic" in offers and "digest" not in offers:
            status, reason, _ = _ask(url, parts.username, parts.password, timeout_s)
            if status == 401:
                raise SourceError(f"{shown}: wrong user or password (RTSP 401)")
        else:
            return  # Digest: FFmpeg speaks it; a wrong password shows as "cannot open"
    if status == 404:
        raise SourceError(f"{shown}: the camera has no stream at {parts.path or '/'} (RTSP 404)")
    if status >= 400:
        raise SourceError(f"{shown}: the camera refused the stream (RTSP {status} {reason})")


def _ask(url: str, user: str | None, password: str | None,
         timeout_s: float) -> tuple[int, str, dict[str, str]]:
    """One DESCRIBE: the status code, its reason and the reply's headers (lower-case names)."""
    shown = redact(url)
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or 554
    reply = b""
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as sock:
            sock.settimeout(timeout_s)
            sock.sendall(_describe(url, user, password))
            while b"\r\n\r\n" not in reply and len(reply) < 16_384:
                data = sock.recv(4096)
                if not data:
                    break
                reply += data
    except socket.gaierror:
        raise SourceError(f"cannot connect to {shown}: unknown host {host!r}") from None
    except ConnectionRefusedError:
        raise SourceError(f"cannot connect to {shown}: connection refused (is the camera on "
                          "and the port right?)") from None
    except TimeoutError:
        raise SourceError(f"cannot connect to {shown}: no answer within {timeout_s:g} s") from None
    except OSError as exc:
        raise SourceError(f"cannot connect to {shown}: {exc.strerror or exc}") from None
    head = reply.split(b"\r\n\r\n", 1)[0].decode("latin-1", "replace").split("\r\n")
    fields = head[0].split(" ", 2)
    if len(fields) < 2 or not fields[0].startswith("RTSP/") or not fields[1].isdigit():
        raise SourceError(f"{shown} did not answer as an RTSP server")
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = (headers.get(name.strip().lower(), "") + " "
                                         + value.strip()).strip()
    return int(fields[1]), fields[2] if len(fields) > 2 else "", headers


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
