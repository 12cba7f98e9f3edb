"""Safe file handling for the state directory, the secret box, and input validators."""

from __future__ import annotations

import os
import re
import secrets
import stat
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from cryptography.fernet import Fernet, InvalidToken

from affectra_edge.config import CAMERA_KINDS
from affectra_edge.logs import redact


class UnsafeStateDir(Exception):
    """The state directory cannot be used safely; the message says why and how to fix it."""


def ensure_state_dir(path: Path) -> Path:
    """Create ``path`` (0750) if missing; refuse it when others can write to it."""
    try:
        path.mkdir(mode=0o750, parents=True, exist_ok=True)
        info = path.stat()
    except OSError as exc:
        raise UnsafeStateDir(f"state dir {path}: cannot create or read it: {exc.strerror}") from None
    if not stat.S_ISDIR(info.st_mode):
        raise UnsafeStateDir(f"state dir {path}: is not a directory")
    if info.st_mode & stat.S_IWOTH:
        raise UnsafeStateDir(
            f"state dir {path}: others can write to it (mode {stat.S_IMODE(info.st_mode):04o}); "
            f"run 'chmod o-w {path}' (0750 is what we create)")
    if not os.access(path, os.W_OK | os.X_OK):
        raise UnsafeStateDir(f"state dir {path}: this user cannot write to it")
    return path


def atomic_write(path: Path, data: bytes, mode: int = 0o640) -> None:
    """Write ``data`` to ``path`` by write-temp, fsync, rename: readers see old or new, never half."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class SecretError(Exception):
    """The secret key cannot be used, or a secret does not decrypt; the message says which file."""


KEY_FILE = "secret.key"
_MAX_KEY_BYTES = 1024


class SecretBox:
    """Fernet encryption with the key in ``<state_dir>/secret.key`` (0600, this user's own).

    The key is created on first use: written to a private temporary name (0600 from the start),
    fsynced, then hard-linked to ``secret.key``; ``link`` never replaces an existing file, so
    two processes starting at once both end up with the key of whichever linked first.
    """

    def __init__(self, state_dir: Path):
        self.key_path = Path(state_dir) / KEY_FILE
        self._fernet = Fernet(_load_or_create_key(self.key_path))

    def encrypt(self, text: str) -> str:
        return self._fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, AttributeError, UnicodeError, TypeError, ValueError):
            raise SecretError(
                f"a stored secret does not decrypt with the key in {self.key_path}: the key was "
                f"replaced or the stored data was changed; enter the secret again") from None


def _load_or_create_key(path: Path) -> bytes:
    key = _read_key(path)
    if key is None:
        _create_key(path)
        key = _read_key(path)
        if key is None:
            raise SecretError(f"{path}: was created but has disappeared again")
    try:
        Fernet(key)
    except ValueError:
        raise SecretError(
            f"{path}: is not a valid key (expected 32 url-safe base64-encoded bytes); "
            f"restore the right file, or remove it to start over (stored secrets are then lost)"
        ) from None
    return key


def _read_key(path: Path) -> bytes | None:
    """The key file's bytes, None when it does not exist; refuses an unsafe file."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if os.path.islink(path):
            raise SecretError(f"{path}: is a symbolic link; the key must be a plain file") from None
        raise SecretError(f"{path}: cannot read it: {exc.strerror}") from None
    try:
        _check_key_file(path, os.fstat(fd))
        data = os.read(fd, _MAX_KEY_BYTES + 1)
    finally:
        os.close(fd)
    if len(data) > _MAX_KEY_BYTES:
        raise SecretError(f"{path}: is too large to be a key")
    return data.strip()


def _check_key_file(path: Path, info: os.stat_result) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise SecretError(f"{path}: is not a regular file")
    if info.st_uid != os.geteuid():
        raise SecretError(
            f"{path}: is owned by uid {info.st_uid}, not by this user (uid {os.geteuid()}); "
            f"run 'chown {os.geteuid()} {path}' if this key is ours")
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        raise SecretError(
            f"{path}: group or others can read or write it (mode {mode:04o}); "
            f"run 'chmod 600 {path}'")


def _create_key(path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                     0o600)
    except OSError as exc:
        raise SecretError(f"{path}: cannot create it: {exc.strerror}") from None
    try:
        try:
            os.fchmod(fd, 0o600)  # whatever the umask
            os.write(fd, Fernet.generate_key() + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)
        except FileExistsError:
            return  # another process created it first: its key is the key
        except OSError as exc:
            raise SecretError(f"{path}: cannot create it: {exc.strerror}") from None
        _fsync_dir(path.parent)
    finally:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass


def _fsync_dir(path: Path) -> None:
    dir_fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def split_credentials(url: str) -> tuple[str, bool]:
    """``url`` without its ``user:password@`` part, and whether it had one."""
    try:
        parts = urlsplit(url)
    except ValueError:  # not a URL we can take apart (a bad IPv6 host)
        return url, False
    if "@" not in parts.netloc:
        return url, False
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2])), True


def holds_secret(url: str) -> bool:
    """Whether ``url`` carries credentials or a secret-looking query value (``?token=...``)."""
    return split_credentials(url)[1] or redact(url) != url


_URL_SCHEMES = {"mjpeg": ("http", "https"), "rtsp": ("rtsp", "rtsps")}
_URL_EXAMPLES = {
    "mjpeg": "http://esp32cam.local:81/stream",
    "rtsp": "rtsp://camera.local:554/stream",
}
_MAX_SOURCE_CHARS = 2048
_MAX_WEBCAM_INDEX = 63
_WEBCAM_PATH = re.compile(r"^/dev/(video[0-9]{1,3}|v4l/by-(id|path)/[^/]+)$")


def validate_camera_source(kind: str, source: str) -> str | None:
    """Why ``source`` is not a valid source for a ``kind`` camera, as a sentence; None if it is."""
    if kind not in CAMERA_KINDS:
        return f"unknown camera kind {kind!r} (known: {', '.join(CAMERA_KINDS)})"
    if not isinstance(source, str):
        return "the source must be text"
    if len(source) > _MAX_SOURCE_CHARS:
        return f"the source is longer than {_MAX_SOURCE_CHARS} characters"
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in source):
        return "the source contains control characters (a line break, a tab?)"
    if kind == "demo":
        return "a demo camera takes no source; leave it empty" if source else None
    if kind == "file":
        if not source:
            return "a file camera needs the absolute path of a video file or folder"
        if ":" in source:  # FFmpeg would read "http:", "concat:" ... as a protocol
            return "a file path must not contain ':'"
        return None if os.path.isabs(source) else (
            f"{source!r} is not an absolute path; give the full path, starting with /")
    if kind == "webcam":
        return _webcam_problem(source)
    return _url_problem(kind, source)


def _webcam_problem(source: str) -> str | None:
    if source == "":
        return None  # device 0
    if source.isascii() and source.isdigit():
        index = int(source)
        if index > _MAX_WEBCAM_INDEX:
            return f"webcam device index must be 0 to {_MAX_WEBCAM_INDEX}, got {index}"
        return None
    if _WEBCAM_PATH.match(source):
        return None
    return (f"{source!r} is not a webcam: give a device index (0 to {_MAX_WEBCAM_INDEX}) or a "
            f"device path such as /dev/video0 or /dev/v4l/by-id/...")


def _url_problem(kind: str, url: str) -> str | None:
    schemes, example = _URL_SCHEMES[kind], _URL_EXAMPLES[kind]
    allowed = " or ".join(f"{s}://" for s in schemes)
    what = f"an {kind.upper()} camera"
    if "://" not in url:
        return f"{what} needs a URL starting with {allowed}, such as {example}"
    if " " in url:
        return "the URL contains a space; write it as %20"
    try:
        parts = urlsplit(url)
    except ValueError:
        return "the URL has a bad host"
    if parts.scheme.lower() not in schemes:
        return f"{what} URL must start with {allowed}, not {parts.scheme.lower()}://"
    if "@" in parts.path + parts.query + parts.fragment:
        return ("the URL has an '@' after the host: if the password holds '/', '?' or '#', "
                "write them as %2F, %3F and %23")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        return "the URL has a bad host or port"
    if not host:
        return f"the URL has no host; it should look like {example}"
    if port == 0:
        return "the URL has a bad port (0)"
    return None
