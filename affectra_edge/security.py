"""Safe file handling for the state directory."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path


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
