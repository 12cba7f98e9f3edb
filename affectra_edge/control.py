"""A local control socket, so `affectra status` and `affectra clear` ask the running daemon.

``<state_dir>/control.sock`` (mode 0600: root and the daemon's own user only). One JSON line
in, one JSON line out: ``{"command": "status"}`` or ``{"command": "clear"}``.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from pathlib import Path

log = logging.getLogger(__name__)

SOCKET_NAME = "control.sock"
MAX_REQUEST = 1024


class ControlError(Exception):
    """The daemon cannot be asked (not running, no permission, no answer)."""


class ControlServer:
    def __init__(self, state_dir: Path, handlers: dict):
        self.path = Path(state_dir) / SOCKET_NAME
        self._handlers = handlers  # command -> callable returning a JSON-ready dict
        self._stop = threading.Event()
        self._sock: socket.socket | None = None
        self._thread = threading.Thread(target=self._serve, name="control", daemon=True)

    def start(self) -> None:
        self.path.unlink(missing_ok=True)  # left by a run that did not stop cleanly
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_umask = os.umask(0o177)  # created 0600: no moment when others could connect
        try:
            sock.bind(str(self.path))
        finally:
            os.umask(old_umask)
        sock.listen(4)
        sock.settimeout(0.5)
        self._sock = sock
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        if self._sock is not None:
            self._sock.close()
        self.path.unlink(missing_ok=True)

    def _serve(self) -> None:
        assert self._sock is not None
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(2.0)
                try:
                    self._answer(conn)
                except OSError as exc:
                    log.debug("control: a client went away: %s", exc)

    def _answer(self, conn: socket.socket) -> None:
        raw = b""
        while b"\n" not in raw and len(raw) <= MAX_REQUEST:
            chunk = conn.recv(MAX_REQUEST)
            if not chunk:
                break
            raw += chunk
        try:
            command = json.loads(raw.decode("utf-8")).get("command")
        except (UnicodeDecodeError, ValueError, AttributeError):
            command = None
        handler = self._handlers.get(command) if isinstance(command, str) else None
        if handler is None:
            reply = {"error": f"unknown command; known: {', '.join(sorted(self._handlers))}"}
        else:
            try:
                reply = handler()
            except Exception as exc:  # noqa: BLE001 - the caller gets the reason, we go on
                log.exception("control: %s failed", command)
                reply = {"error": f"{command} failed: {exc}"}
        conn.sendall(json.dumps(reply).encode("utf-8") + b"\n")


def ask(state_dir: Path, command: str, timeout_s: float = 10.0) -> dict:
    """Send ``command`` to the daemon using ``state_dir``; ControlError when it cannot."""
    path = Path(state_dir) / SOCKET_NAME
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout_s)
    try:
        sock.connect(str(path))
        sock.sendall(json.dumps({"command": command}).encode("utf-8") + b"\n")
        raw = b""
        while not raw.endswith(b"\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            raw += chunk
    except (FileNotFoundError, ConnectionRefusedError):
        raise ControlError(f"the daemon is not running (nothing answers at {path})") from None
    except PermissionError:
        raise ControlError(f"no permission to ask the daemon at {path}; run as root or as "
                           f"the daemon's user") from None
    except OSError as exc:
        raise ControlError(f"the daemon at {path} did not answer: {exc}") from None
    finally:
        sock.close()
    try:
        reply = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ControlError(f"the daemon at {path} gave no readable answer") from None
    if "error" in reply:
        raise ControlError(reply["error"])
    return reply
