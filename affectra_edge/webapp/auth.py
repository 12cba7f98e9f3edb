"""Who may use the web UI: the admin password, the first-run code, sessions and login limits.

Pure logic, no web framework. No default credentials: the admin password's scrypt hash is in
``<state_dir>/users.json`` (0600), read on every check so ``affectra set-password`` takes effect
in a running daemon; until it exists the daemon logs a one-time setup code, kept in memory only.
"""

from __future__ import annotations

import base64
import getpass as getpass_module
import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from affectra_edge.security import UnsafeStateDir, atomic_write, ensure_state_dir

log = logging.getLogger(__name__)

PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 256
USERS_FILE = "users.json"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
_SALT_BYTES, _KEY_BYTES = 16, 32
_MAX_SCRYPT_MEMORY = 64 * 1024 * 1024  # refuse a tampered hash that would cost more to check
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no I, O, 0, 1: 3 x 4 chars = 60 bits


def _password_bytes(password: str) -> bytes:
    return unicodedata.normalize("NFC", password).encode("utf-8", "surrogatepass")


def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt_b64$hash_b64`` for ``password``, with a fresh random salt."""
    salt = secrets.token_bytes(_SALT_BYTES)
    key = Scrypt(salt=salt, length=_KEY_BYTES, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P).derive(
        _password_bytes(password))
    salt_b64, key_b64 = (base64.b64encode(raw).decode("ascii") for raw in (salt, key))
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt_b64}${key_b64}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored``; False for anything malformed, never an error."""
    if not isinstance(password, str) or not isinstance(stored, str):
        return False
    try:
        scheme, n_text, r_text, p_text, salt_b64, key_b64 = stored.split("$")
        n, r, p = int(n_text), int(r_text), int(p_text)
        salt, expected = (base64.b64decode(text, validate=True) for text in (salt_b64, key_b64))
    except ValueError:
        return False
    if (scheme != "scrypt" or n < 2 or n & (n - 1) or not 1 <= r <= 32 or not 1 <= p <= 16
            or 128 * n * r > _MAX_SCRYPT_MEMORY or not 16 <= len(expected) <= 64 or not salt):
        return False
    actual = Scrypt(salt=salt, length=len(expected), n=n, r=r, p=p).derive(
        _password_bytes(password))
    return hmac.compare_digest(actual, expected)


def check_new_password(password: object) -> str | None:
    """Why ``password`` cannot be the admin password, as a sentence; None when it can."""
    if not isinstance(password, str):
        return "The password must be text."
    if password and not password.strip():
        return "The password cannot be only spaces."
    if len(password) < PASSWORD_MIN_LENGTH:
        return f"The password is too short: use at least {PASSWORD_MIN_LENGTH} characters."
    if len(password) > PASSWORD_MAX_LENGTH:
        return f"The password is too long: use at most {PASSWORD_MAX_LENGTH} characters."
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in password):
        return "The password contains control characters or invalid text (a line break, a tab?)."
    return None


class AuthStateError(Exception):
    """``users.json`` cannot be read; the message names the file and says how to fix it."""


class Accounts:
    """The one admin account in ``<state_dir>/users.json``, and the first-run setup code."""

    def __init__(self, state_dir: Path):
        self.state_dir = Path(state_dir)
        self.path = self.state_dir / USERS_FILE
        self._lock = threading.RLock()
        self._code: str | None = None
        self._code_spent = self._announced = False  # one code per process lifetime

    def _stored_hash(self) -> str | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            stored = data["admin"]["password_hash"]
            if not isinstance(stored, str):
                raise TypeError("the password hash is not text")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeError, ValueError, KeyError, TypeError) as exc:
            raise AuthStateError(f"{self.path}: cannot read the admin account ({exc}); "
                                 f"run 'affectra set-password' to write it again") from None
        return stored

    def has_password(self) -> bool:
        return self._stored_hash() is not None

    def check(self, password: str) -> bool:
        if not isinstance(password, str) or len(password) > PASSWORD_MAX_LENGTH:
            return False
        return verify_password(password, self._stored_hash() or "")

    def set_password(self, password: str) -> None:
        """Validate and store ``password``; ``ValueError`` with a sentence when it is refused."""
        if problem := check_new_password(password):
            raise ValueError(problem)
        record = {"version": 1, "admin": {
            "username": "admin", "password_hash": hash_password(password),
            "changed_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}}
        ensure_state_dir(self.state_dir)
        with self._lock:
            atomic_write(self.path, (json.dumps(record, indent=2) + "\n").encode(), 0o600)
            self._code, self._code_spent = None, True

    def setup_code(self) -> str | None:
        """The first-run code while no password is set (made once, in memory only), else None."""
        with self._lock:
            if self._code is None and not self._code_spent and not self.has_password():
                self._code = "-".join("".join(secrets.choice(_CODE_ALPHABET) for _ in range(4))
                                      for _ in range(3))
            return self._code if self._code and not self.has_password() else None

    def announce_setup_code(self) -> str | None:
        """Log the setup code once (WARNING) when no password is set; return it."""
        code = self.setup_code()
        if code and not self._announced:
            self._announced = True
            log.warning("first run: open the web UI and enter setup code %s to set the admin "
                        "password (or run 'affectra set-password')", code)
        return code

    def complete_setup(self, code: str, password: str) -> None:
        """Set the first password given the right code; ``ValueError`` with a sentence if not
        (the caller counts each refusal toward its ``LoginLimiter`` for the client)."""
        with self._lock:  # two right answers at once: only the first sets the password
            if self.has_password():
                raise ValueError("A password is already set; log in instead.")
            expected = self.setup_code()
            supplied = "".join(str(code).split()).replace("-", "").upper()[:64]
            if expected is None or not hmac.compare_digest(
                    supplied.encode("utf-8", "replace"), expected.replace("-", "").encode()):
                log.warning("first run: a wrong setup code was entered")
                raise ValueError("Wrong setup code: copy it from the daemon's log "
                                 "(journalctl -u affectra), or run 'affectra set-password'.")
            self.set_password(password)


@dataclass
class Session:
    token: str
    csrf_token: str
    created: float
    last_seen: float


def _token_key(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "replace")).digest()


class Sessions:
    """Server-side sessions, in memory: at most ``max_sessions``, each valid for ``ttl_s``."""

    def __init__(self, ttl_s: float = 12 * 3600, max_sessions: int = 64,
                 clock: Callable[[], float] = time.monotonic):
        self.ttl_s, self.max_sessions, self._clock = ttl_s, max_sessions, clock
        self._sessions: OrderedDict[bytes, Session] = OrderedDict()  # least recently seen first
        self._lock = threading.Lock()

    def create(self) -> Session:
        now = self._clock()
        session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), now, now)
        with self._lock:
            for key in [k for k, s in self._sessions.items() if now - s.created >= self.ttl_s]:
                del self._sessions[key]
            self._sessions[_token_key(session.token)] = session
            while len(self._sessions) > self.max_sessions:
                self._sessions.popitem(last=False)
        return session

    def get(self, token: str) -> Session | None:
        if not isinstance(token, str) or not token or len(token) > 256:
            return None
        key, now = _token_key(token), self._clock()
        with self._lock:
            session = self._sessions.get(key)
            if session is None or now - session.created >= self.ttl_s:
                self._sessions.pop(key, None)
                return None
            session.last_seen = now
            self._sessions.move_to_end(key)
            return session

    def destroy(self, token: str) -> None:
        with self._lock:
            self._sessions.pop(_token_key(str(token)), None)

    def __len__(self) -> int:
        return len(self._sessions)

    @staticmethod
    def check_csrf(session: Session | None, supplied: str) -> bool:
        if session is None or not isinstance(supplied, str) or not supplied:
            return False
        return hmac.compare_digest(session.csrf_token.encode(),
                                   supplied.encode("utf-8", "replace"))


@dataclass
class _ClientRecord:
    failures: list[float] = field(default_factory=list)
    locked_until: float = 0.0


class LoginLimiter:
    """Locks a client out for ``lockout_s`` after ``max_failures`` failures within ``window_s``;
    tracks at most ``max_clients``, forgetting the one idle longest first."""

    def __init__(self, max_failures: int = 5, window_s: float = 300, lockout_s: float = 300,
                 max_clients: int = 1024, clock: Callable[[], float] = time.monotonic):
        self.max_failures, self.window_s, self.lockout_s = max_failures, window_s, lockout_s
        self.max_clients, self._clock = max_clients, clock
        self._clients: OrderedDict[str, _ClientRecord] = OrderedDict()
        self._lock = threading.Lock()

    def allowed(self, client: str) -> tuple[bool, float]:
        """Whether ``client`` may try now, and if not how many seconds it must wait."""
        with self._lock:
            record = self._clients.get(client)
            wait_s = record.locked_until - self._clock() if record else 0.0
        return (True, 0.0) if wait_s <= 0 else (False, wait_s)

    def failed(self, client: str) -> None:
        now = self._clock()
        with self._lock:
            record = self._clients.pop(client, None) or _ClientRecord()
            self._clients[client] = record  # now the most recent
            while len(self._clients) > self.max_clients:
                self._clients.popitem(last=False)
            record.failures = [t for t in record.failures if now - t < self.window_s] + [now]
            count = len(record.failures)
            if count >= self.max_failures:
                record.failures, record.locked_until = [], now + self.lockout_s
        log.warning("failed login from %r (%d in %.0f s)%s", client[:64], count, self.window_s,
                    f"; locked for {self.lockout_s:.0f} s" if count >= self.max_failures else "")

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._clients.pop(client, None)

    def __len__(self) -> int:
        return len(self._clients)


def set_password_interactive(state_dir: Path, stdin: TextIO, stdout: TextIO,
                             getpass: Callable[[str], str] = getpass_module.getpass) -> int:
    """``affectra set-password``: ask twice (or read two lines from a pipe), validate, store.
    Exit code 0 when set, 2 when the entries differ or are refused, 1 for a bad state dir."""
    try:
        if stdin.isatty():
            first, second = getpass("New admin password: "), getpass("Repeat it: ")
        else:
            first, second = stdin.readline().rstrip("\r\n"), stdin.readline().rstrip("\r\n")
    except (EOFError, KeyboardInterrupt):
        stdout.write("no password entered; nothing changed\n")
        return 2
    if first != second:
        stdout.write("the two passwords differ; nothing changed\n")
        return 2
    accounts = Accounts(state_dir)
    try:
        accounts.set_password(first)
    except ValueError as exc:
        stdout.write(f"{exc} Nothing changed.\n")
        return 2
    except (UnsafeStateDir, OSError) as exc:
        stdout.write(f"cannot write {accounts.path}: {exc}\n")
        return 1
    stdout.write(f"admin password set in {accounts.path}\n")
    return 0
