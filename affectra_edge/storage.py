"""Daily CSV files of ended viewer sessions (one per UTC end date): append, read, prune, clear.

Each row is one ``os.write`` on an ``O_APPEND`` descriptor, then fsync: a crash loses at most the
row in flight. Parsing is strict (every number has a fixed count of decimals, so no prefix of a
row is a row): torn or damaged lines are skipped with one warning per file version.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import os
import re
import threading
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from affectra_edge.emotions import EMOTIONS
from affectra_edge.records import SessionRecord

log = logging.getLogger(__name__)

COLUMNS: tuple[str, ...] = ("session_id", "camera_id", "started_at", "ended_at", "duration_s",
                            "frames", "dominant_emotion", *EMOTIONS)
HEADER = ",".join(COLUMNS) + "\n"
SHARE_TOLERANCE = 0.1
DIR_MODE = 0o750
FILE_MODE = 0o640

_HEADER_BYTES = HEADER.encode("ascii")
_FILE_RE = re.compile(r"sessions-(\d{4}-\d{2}-\d{2})\.csv")
_TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
_DURATION_RE = re.compile(r"\d{1,10}\.\d{3}")
_FRAMES_RE = re.compile(r"\d{1,12}")
_SHARE_RE = re.compile(r"\d{1,3}\.\d{2}")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_MAX_LISTED_LINES = 10
_OPEN_FLAGS = os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)


def format_time(when: datetime) -> str:
    """``when`` as UTC ISO 8601 with milliseconds (truncated, never rounded up) and ``Z``."""
    if when.tzinfo is None:
        raise ValueError("session times must be timezone-aware")
    t = when.astimezone(UTC)
    return (f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:"
            f"{t.second:02d}.{t.microsecond // 1000:03d}Z")


def parse_time(text: str) -> datetime:
    if not _TIME_RE.fullmatch(text):
        raise ValueError(f"bad time {text!r}")
    return datetime.fromisoformat(text).astimezone(UTC)


def _check_ids(*values: str) -> None:
    if any(not v or _CONTROL_RE.search(v) for v in values):
        raise ValueError("ids must be non-empty text without control characters")
    for value in values:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: not text a file can hold
            raise ValueError("ids must be valid Unicode text") from None


def _check_shares(values: Iterable[float]) -> None:
    values = list(values)
    if any(not 0.0 <= v <= 100.0 for v in values):
        raise ValueError("each share must be within 0..100")
    if abs(math.fsum(values) - 100.0) > SHARE_TOLERANCE + 1e-9:
        raise ValueError(f"shares sum to {math.fsum(values):.2f}, not 100")


def _fixed(value: float, decimals: int, name: str) -> str:
    if not math.isfinite(value) or round(value, decimals) < 0:
        raise ValueError(f"{name} must be a finite number >= 0")
    return f"{round(value, decimals) + 0.0:.{decimals}f}"  # + 0.0 turns -0.0 into 0.0


def format_row(record: SessionRecord) -> str:
    """One CSV line (with its ``\\n``) for ``record``; ValueError if it could not be read back."""
    _check_ids(record.session_id, record.camera_id)
    if type(record.frames) is not int or record.frames < 0:
        raise ValueError("frames must be an int >= 0")
    shares = [_fixed(record.shares[e], 2, e) for e in EMOTIONS]
    _check_shares(float(s) for s in shares)
    fields = [record.session_id, record.camera_id, format_time(record.started_at),
              format_time(record.ended_at), _fixed(record.duration_s, 3, "duration_s"),
              str(record.frames), record.dominant_emotion, *shares]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(fields)
    parse_row(buffer.getvalue()[:-1])  # never write a row that reading would skip
    return buffer.getvalue()


def parse_row(line: str) -> SessionRecord:
    """The record in one CSV line (without its line end); ValueError if anything is off."""
    try:
        fields = next(csv.reader((line,), strict=True), [])
    except csv.Error as exc:
        raise ValueError(f"bad quoting: {exc}") from None
    if len(fields) != len(COLUMNS):
        raise ValueError(f"{len(fields)} columns instead of {len(COLUMNS)}")
    session_id, camera_id, started, ended, duration, frames, dominant, *share_texts = fields
    _check_ids(session_id, camera_id)
    if not (_DURATION_RE.fullmatch(duration) and _FRAMES_RE.fullmatch(frames)
            and all(_SHARE_RE.fullmatch(s) for s in share_texts)):
        raise ValueError("malformed number")
    shares = {e: float(s) for e, s in zip(EMOTIONS, share_texts)}
    _check_shares(shares.values())
    return SessionRecord(session_id, camera_id, parse_time(started), parse_time(ended),
                         float(duration), int(frames), dominant, shares)


def to_csv_bytes(records: Iterable[SessionRecord]) -> bytes:
    """A whole CSV document (header and rows, UTF-8), e.g. for a download."""
    return (HEADER + "".join(format_row(r) for r in records)).encode("utf-8")


def _signature(st: os.stat_result) -> tuple[int, int, int]:
    return (st.st_ino, st.st_size, st.st_mtime_ns)


class SessionStore:
    """The ``sessions-YYYY-MM-DD.csv`` files of one directory (file date = UTC end date).

    ``append``, ``prune`` and ``clear`` hold a lock; readers need none (rows are appended whole).
    """

    def __init__(self, sessions_dir: Path, retention_days: int) -> None:
        if retention_days < 1:
            raise ValueError("retention_days must be >= 1")
        self.sessions_dir = Path(sessions_dir)
        self.retention_days = retention_days
        self._lock = threading.Lock()
        self._counts: dict[Path, tuple[tuple[int, int, int], int]] = {}
        self._warned: dict[Path, tuple[int, int, int] | None] = {}

    def path_for(self, day: date) -> Path:
        return self.sessions_dir / f"sessions-{day.isoformat()}.csv"

    def files(self, start: date | None = None, end: date | None = None) -> list[tuple[date, Path]]:
        """Session files by date, oldest first, limited to ``start..end`` (inclusive)."""
        found = []
        try:
            names = os.listdir(self.sessions_dir)
        except OSError as exc:
            if not isinstance(exc, FileNotFoundError):
                log.warning("cannot list sessions directory %s: %s", self.sessions_dir, exc)
            return []
        for name in names:
            match = _FILE_RE.fullmatch(name)
            if not match:
                continue
            try:
                day = date.fromisoformat(match[1])
            except ValueError:
                continue
            if (start is None or day >= start) and (end is None or day <= end):
                found.append((day, self.sessions_dir / name))
        return sorted(found)

    def append(self, record: SessionRecord) -> Path:
        """Write ``record`` to the file of its UTC end date, durably; returns that file."""
        row = format_row(record).encode("utf-8")
        path = self.path_for(record.ended_at.astimezone(UTC).date())
        with self._lock:
            self._ensure_dir()
            fd, created = self._open_for_append(path)
            try:
                data = self._prefix(fd, path) + row
                written = os.write(fd, data)
                while written < len(data):  # only on a full disk or similar; normally one write
                    written += os.write(fd, data[written:])
                self._fsync_row(fd, path, record)
            finally:
                os.close(fd)
            if created:
                self._fsync_dir()
        return path

    def _ensure_dir(self) -> None:
        if not self.sessions_dir.is_dir():
            self.sessions_dir.parent.mkdir(parents=True, exist_ok=True)
            os.mkdir(self.sessions_dir, DIR_MODE)
            os.chmod(self.sessions_dir, DIR_MODE)  # the umask may have taken bits away

    def _open_for_append(self, path: Path) -> tuple[int, bool]:
        flags = os.O_RDWR | os.O_APPEND | _OPEN_FLAGS
        try:
            fd = os.open(path, flags | os.O_CREAT | os.O_EXCL, FILE_MODE)
        except FileExistsError:
            return os.open(path, flags), False
        os.fchmod(fd, FILE_MODE)
        return fd, True

    @staticmethod
    def _prefix(fd: int, path: Path) -> bytes:
        """What must precede the row: the header for an empty file, a line end after a torn one."""
        size = os.fstat(fd).st_size
        if size == 0:
            return _HEADER_BYTES
        if os.pread(fd, 1, size - 1) == b"\n":
            return b""
        log.warning("%s: last line is incomplete (a crash?); the new row starts a new line", path)
        header_ok = os.pread(fd, len(_HEADER_BYTES), 0) == _HEADER_BYTES
        return b"\n" if header_ok else b"\n" + _HEADER_BYTES

    @staticmethod
    def _fsync_row(fd: int, path: Path, record: SessionRecord) -> None:
        """The row is written; a failing fsync is reported, not raised, so that a retry
        does not append the same session twice."""
        try:
            os.fsync(fd)
        except OSError as exc:
            log.error("%s: session %s written but fsync failed (%s); it may not survive a "
                      "power cut", path, record.session_id, exc.strerror)

    def _fsync_dir(self) -> None:
        fd = os.open(self.sessions_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def read(self, start: date | None = None, end: date | None = None) -> list[SessionRecord]:
        """Valid records of the files dated ``start..end`` (inclusive), oldest file first."""
        return [record for _day, path in self.files(start, end) for record in self._load(path)]

    def count(self) -> int:
        """Number of valid sessions; unchanged files are not parsed again."""
        total = 0
        paths = [path for _day, path in self.files()]
        for path in paths:
            try:
                sig = _signature(os.stat(path))
            except OSError:
                sig = None
            cached = self._counts.get(path)
            total += cached[1] if cached and cached[0] == sig else len(self._load(path))
        for gone in set(self._counts).difference(paths):
            self._counts.pop(gone, None)
        return total

    def _load(self, path: Path) -> list[SessionRecord]:
        records: list[SessionRecord] = []
        bad: list[int] = []
        try:
            with os.fdopen(os.open(path, os.O_RDONLY | _OPEN_FLAGS), "rb") as fh:
                sig = _signature(os.fstat(fh.fileno()))
                for lineno, raw in enumerate(fh, 1):
                    text = raw.rstrip(b"\r\n")
                    if not text or text == _HEADER_BYTES[:-1]:
                        continue
                    try:
                        records.append(parse_row(text.decode("utf-8")))
                    except ValueError:
                        bad.append(lineno)
        except OSError as exc:
            self._warn_once(path, None, "%s: cannot read sessions file: %s", path, exc)
            return []
        self._counts[path] = (sig, len(records))
        if bad:
            listed = ", ".join(map(str, bad[:_MAX_LISTED_LINES])) + (
                ", ..." if len(bad) > _MAX_LISTED_LINES else "")
            self._warn_once(path, sig, "%s: skipped %d torn or malformed line(s): line %s",
                            path, len(bad), listed)
        return records

    def _warn_once(self, path: Path, sig: tuple[int, int, int] | None, msg: str, *args) -> None:
        """Warn about a file once per version of it, so a periodic reader does not flood logs."""
        if path in self._warned and self._warned[path] == sig:
            log.debug(msg, *args)
        else:
            self._warned[path] = sig
            log.warning(msg, *args)

    def prune(self, today: date | None = None) -> list[Path]:
        """Delete files dated more than ``retention_days`` before ``today`` (UTC)."""
        today = today or datetime.now(UTC).date()
        cutoff = today - timedelta(days=self.retention_days)
        removed = []
        with self._lock:
            for _day, path in self.files(end=cutoff - timedelta(days=1)):
                if self._remove(path):
                    log.info("pruned %s (older than %d days)", path, self.retention_days)
                    removed.append(path)
        return removed

    def clear(self) -> int:
        """Delete every session file; returns how many valid sessions they held."""
        removed_sessions = removed_files = 0
        with self._lock:
            for _day, path in self.files():
                sessions = len(self._load(path))
                if self._remove(path):
                    removed_sessions += sessions
                    removed_files += 1
        log.info("cleared %d sessions (%d files) from %s",
                 removed_sessions, removed_files, self.sessions_dir)
        return removed_sessions

    def _remove(self, path: Path) -> bool:
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("cannot remove %s: %s", path, exc)
            return False
        self._counts.pop(path, None)
        self._warned.pop(path, None)
        return True
