"""A local control socket, so `affectra status` and `affectra clear` ask the running daemon,
and the lock that lets only one daemon use a state dir.

``<state_dir>/control.sock`` (mode 0600: root and the daemon's own user only). One JSON line
in, one JSON line out: ``{"command": "status"}`` or ``{"command": "clear"}``.
``<state_dir>/daemon.lock`` is held (flock) by the daemon for its whole life.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)

SOCKET_NAME = "control.sock"
LOCK_NAME = "daemon.lock"
MAX_REQUEST = 1024


class ControlError(Exception):
    """The daemon cannot be asked (not running, no permission, no answer)."""


class NotRunning(ControlError):
    """No daemon answers on this state dir's control socket."""


class StateDirBusy(Exception):
    """Another process holds the state dir's lock: a daemon runs (or is starting) on it."""


def hold_state_dir(state_dir: Path) -> int:
    """Take ``state_dir``'s lock without waiting; returns the descriptor that holds it
    (closing it, or the process ending, releases it). StateDirBusy when it is taken."""
    path = Path(state_dir) / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o640)
    except OSError as exc:
        raise StateDirBusy(f"cannot open {path}: {exc.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise StateDirBusy(f"another affectra daemon is running with state dir {state_dir} "
                           f"(it holds {path})") from None
    return fd


@contextlib.contextmanager
def state_dir_held(state_dir: Path) -> Iterator[None]:
    """The lock for the length of a ``with`` block (a command that changes state offline)."""
    fd = hold_state_dir(state_dir)
    try:
        yield
    finally:
        os.close(fd)


class ControlServer:
    def __init__(self, state_dir: Path, handlers: dict):
        self.path = Path(state_dir) / SOCKET_NAME
        self._handlers = handlers  # command -> callable returning a JSON-ready dict
        self._stop = threading.Event()
        self._sock: socket.socket | None = None
        self._thread = threading.Thread(target=self._serve, name="control", daemon=True)

    def start(self) -> None:
        """Listen; ControlError naming the socket when it cannot. The caller holds the state
        dir's lock, so a socket already there was left by a run that did not stop cleanly."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.path.unlink(missing_ok=True)
            sock.bind(str(self.path))
            # Before listen() nobody can connect; the state dir (0750) shuts others out too.
            os.chmod(self.path, 0o600)
            sock.listen(4)
        except OSError as exc:
            sock.close()
            raise ControlError(f"cannot open the control socket {self.path}: "
                               f"{exc.strerror or exc}") from None
        sock.settimeout(0.5)
        self._sock = sock
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread.ident is not None:  # not started when start() failed
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
        raise NotRunning(f"the daemon is not running (nothing answers at {path})") from None
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
