"""SessionStore against real files in a temporary directory (no file-system fakes)."""

from __future__ import annotations

import logging
import os
import signal
import stat
import subprocess
import sys
import tempfile
import threading
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from affectra_edge.emotions import EMOTIONS
from affectra_edge.records import SessionRecord
from affectra_edge.storage import (
    HEADER,
    SessionStore,
    format_row,
    parse_row,
    to_csv_bytes,
)

REPO = Path(__file__).resolve().parents[1]
T0 = datetime(2026, 11, 25, 10, 3, 4, 250000, tzinfo=UTC)


def make_record(n: int = 1, ended_at: datetime = T0, duration_s: float = 12.345,
                camera_id: str = "door-1", **shares: float) -> SessionRecord:
    values = {e: 0.0 for e in EMOTIONS}
    values.update(shares or {"happy": 62.5, "neutral": 30.25, "surprise": 7.25})
    dominant = max(EMOTIONS, key=lambda e: values[e])
    return SessionRecord(
        session_id=f"s-{n:06d}", camera_id=camera_id,
        started_at=ended_at - timedelta(seconds=duration_s), ended_at=ended_at,
        duration_s=duration_s, frames=10 * n, dominant_emotion=dominant, shares=values)


def data_lines(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line and line != HEADER.strip()]


def test_rows_round_trip_exactly(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "sessions", retention_days=30)
    records = [make_record(1), make_record(2, T0 + timedelta(minutes=5), 0.001, camera_id='a,"b'),
               make_record(3, T0 + timedelta(hours=1), 3600.5, angry=14.29, disgust=14.29,
                           fear=14.28, happy=14.29, sad=14.28, surprise=14.28, neutral=14.29)]
    for record in records:
        store.append(record)
    assert store.read() == records
    path = tmp_path / "sessions" / "sessions-2026-11-25.csv"
    text = path.read_text()
    assert text.startswith(HEADER)
    assert text.splitlines()[1] == (
        "s-000001,door-1,2026-11-25T10:02:51.905Z,2026-11-25T10:03:04.250Z,12.345,10,happy,"
        "0.00,0.00,0.00,62.50,0.00,7.25,30.25")
    assert text.count(HEADER) == 1
    assert store.count() == 3
    assert to_csv_bytes(records) == text.encode()


def test_times_are_truncated_to_milliseconds(tmp_path: Path) -> None:
    record = make_record(1, ended_at=datetime(2026, 11, 25, 23, 59, 59, 999999, tzinfo=UTC))
    store = SessionStore(tmp_path, retention_days=30)
    path = store.append(record)
    assert path.name == "sessions-2026-11-25.csv"  # never rounded up into the next day
    (back,) = store.read()
    assert back.ended_at == datetime(2026, 11, 25, 23, 59, 59, 999000, tzinfo=UTC)


@pytest.mark.parametrize("change", [
    {"session_id": ""}, {"camera_id": "cam\n2"}, {"frames": -1}, {"duration_s": float("nan")},
    {"shares": {**{e: 0.0 for e in EMOTIONS}, "happy": 90.0}},
])
def test_records_that_could_not_be_read_back_are_refused(tmp_path: Path, change: dict) -> None:
    fields = make_record().__dict__ | change
    record = SessionRecord(**fields)
    with pytest.raises(ValueError):
        format_row(record)
    with pytest.raises(ValueError):
        SessionStore(tmp_path, retention_days=30).append(record)
    assert not list(tmp_path.iterdir())


def test_damaged_lines_are_skipped_with_one_warning(tmp_path: Path, caplog) -> None:
    store = SessionStore(tmp_path, retention_days=30)
    good = [make_record(n, T0 + timedelta(seconds=n)) for n in range(1, 4)]
    path = store.append(good[0])
    with open(path, "a") as fh:
        fh.write("garbage,that,is,not,a,row\n")
        fh.write(format_row(make_record(99))[:-1].replace("62.50", "62.5") + "\n")
    store.append(good[1])
    store.append(good[2])
    torn = format_row(make_record(4, T0 + timedelta(seconds=4)))[:57]
    with open(path, "a") as fh:
        fh.write(torn)
    with caplog.at_level(logging.WARNING, logger="affectra_edge.storage"):
        assert store.read() == good
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    message = warnings[0].getMessage()
    assert str(path) in message and "3 torn or malformed" in message
    assert "line 3, 4, 7" in message
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="affectra_edge.storage"):
        assert store.read() == good
        assert store.count() == 3
    assert not caplog.records  # the same damage is reported once, not on every read


@pytest.mark.parametrize("bad_value", ["abc", "1e2", "-5.00", "101.00", "nan", ""])
def test_unparsable_shares_are_skipped(tmp_path: Path, bad_value: str) -> None:
    line = format_row(make_record())[:-1]
    fields = line.split(",")
    fields[-1] = bad_value
    with pytest.raises(ValueError):
        parse_row(",".join(fields))
    fields[-1], fields[6] = "30.25", "joy"
    with pytest.raises(ValueError):
        parse_row(",".join(fields))


def test_append_after_a_torn_last_line(tmp_path: Path, caplog) -> None:
    store = SessionStore(tmp_path, retention_days=30)
    first = make_record(1)
    path = store.append(first)
    with open(path, "a") as fh:
        fh.write(format_row(make_record(2))[:40])
    second = make_record(3, T0 + timedelta(seconds=30))
    store.append(second)
    assert path.read_bytes().endswith(b"\n" + format_row(second).encode())
    with caplog.at_level(logging.WARNING, logger="affectra_edge.storage"):
        assert store.read() == [first, second]
    assert any("line 3" in r.getMessage() for r in caplog.records)


def test_append_after_a_torn_header_adds_the_header(tmp_path: Path) -> None:
    store = SessionStore(tmp_path, retention_days=30)
    path = tmp_path / "sessions-2026-11-25.csv"
    path.write_text(HEADER[:20])
    store.append(make_record(1))
    assert path.read_text().splitlines()[1:] == [HEADER.strip(), format_row(make_record(1))[:-1]]
    assert store.read() == [make_record(1)]


def test_rotation_by_utc_end_date(tmp_path: Path) -> None:
    store = SessionStore(tmp_path, retention_days=30)
    before = make_record(1, datetime(2026, 11, 25, 23, 59, 20, tzinfo=UTC), 5.0)
    across = make_record(2, datetime(2026, 11, 26, 0, 0, 10, tzinfo=UTC), 40.0)
    assert across.started_at == datetime(2026, 11, 25, 23, 59, 30, tzinfo=UTC)
    berlin = timezone(timedelta(hours=1))
    local = make_record(3, datetime(2026, 11, 27, 0, 30, tzinfo=berlin), 60.0)
    assert store.append(before).name == "sessions-2026-11-25.csv"
    assert store.append(across).name == "sessions-2026-11-26.csv"
    assert store.append(local).name == "sessions-2026-11-26.csv"  # 23:30Z on the 26th
    assert "2026-11-26T23:30:00.000Z" in (tmp_path / "sessions-2026-11-26.csv").read_text()
    assert store.read() == [before, across, local]
    assert store.read(start=date(2026, 11, 26)) == [across, local]
    assert store.read(end=date(2026, 11, 25)) == [before]
    assert store.read(start=date(2026, 11, 27)) == []


def test_prune_keeps_recent_and_foreign_files(tmp_path: Path, caplog) -> None:
    store = SessionStore(tmp_path, retention_days=7)
    today = date(2026, 11, 25)
    for age in (0, 1, 7, 8, 30):
        store.append(make_record(age, datetime(2026, 11, 25, 12, tzinfo=UTC) - timedelta(days=age)))
    foreign = [tmp_path / "notes.txt", tmp_path / "sessions-2026-01-01.csv.bak",
               tmp_path / "sessions-2026-02-30.csv", tmp_path / "old-sessions-2020-01-01.csv"]
    for path in foreign:
        path.write_text("keep me\n")
    with caplog.at_level(logging.INFO, logger="affectra_edge.storage"):
        removed = store.prune(today)
    assert sorted(p.name for p in removed) == ["sessions-2026-10-26.csv", "sessions-2026-11-17.csv"]
    assert all(str(p) in caplog.text for p in removed)
    assert [d for d, _ in store.files()] == [date(2026, 11, 18), date(2026, 11, 24), today]
    assert all(p.read_text() == "keep me\n" for p in foreign)
    assert store.prune(today) == []


def test_clear_removes_all_sessions(tmp_path: Path) -> None:
    store = SessionStore(tmp_path, retention_days=30)
    for n in range(5):
        store.append(make_record(n, T0 + timedelta(days=n % 3, seconds=n)))
    (tmp_path / "cameras.json").write_text("{}")
    assert store.count() == 5
    assert store.clear() == 5
    assert store.read() == [] and store.count() == 0
    assert [p.name for p in tmp_path.iterdir()] == ["cameras.json"]
    assert store.clear() == 0


def test_unreadable_file_gives_a_warning(tmp_path: Path, caplog) -> None:
    store = SessionStore(tmp_path, retention_days=30)
    store.append(make_record(1))
    (tmp_path / "sessions-2026-11-24.csv").mkdir()  # cannot be read even by root
    with caplog.at_level(logging.WARNING, logger="affectra_edge.storage"):
        assert store.read() == [make_record(1)]
    assert "sessions-2026-11-24.csv: cannot read" in caplog.text


def test_missing_directory_reads_empty_and_is_created_private(tmp_path: Path) -> None:
    sessions = tmp_path / "state" / "sessions"
    store = SessionStore(sessions, retention_days=30)
    assert store.read() == [] and store.count() == 0 and store.prune() == []
    old_umask = os.umask(0o077)  # modes must not depend on the daemon's umask
    try:
        path = store.append(make_record(1))
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(sessions.stat().st_mode) == 0o750
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_appends_from_many_threads_do_not_interleave(tmp_path: Path) -> None:
    store = SessionStore(tmp_path, retention_days=30)

    def write(worker: int) -> None:
        for n in range(50):
            store.append(make_record(worker * 1000 + n, T0 + timedelta(seconds=n)))

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(store.read()) == 200
    assert len(data_lines(tmp_path / "sessions-2026-11-25.csv")) == 200


WRITER = """
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from affectra_edge.emotions import EMOTIONS
from affectra_edge.records import SessionRecord
from affectra_edge.storage import SessionStore
store = SessionStore(Path(sys.argv[1]), retention_days=30)
shares = {e: 0.0 for e in EMOTIONS} | {"happy": 75.0, "neutral": 25.0}
t0 = datetime(2026, 11, 25, 10, tzinfo=UTC)
n = 0
while True:
    end = t0 + timedelta(seconds=n)
    store.append(SessionRecord(f"k{n}", "cam", end - timedelta(seconds=2), end, 2.0, 40,
                               "happy", shares))
    sys.stdout.write(f"k{n}\\n")
    sys.stdout.flush()
    n += 1
"""


def test_sigkilled_writer_loses_at_most_the_row_in_flight(tmp_path: Path, caplog) -> None:
    env = os.environ | {"PYTHONPATH": str(REPO)}
    child = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path)], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watchdog = threading.Timer(120.0, child.kill)  # never hang the suite if the child stalls
    watchdog.start()
    reported = []
    try:
        while len(reported) < 300:
            line = child.stdout.readline()
            assert line, f"writer died early: {child.stderr.read()}"
            reported.append(line.strip())
        child.send_signal(signal.SIGKILL)
        reported += [line.strip() for line in child.stdout]  # ids acknowledged before the kill
        child.wait()
    finally:
        watchdog.cancel()
        child.kill()
        child.stdout.close()
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL
    assert reported == [f"k{n}" for n in range(len(reported))]

    store = SessionStore(tmp_path, retention_days=30)
    stored = [r.session_id for r in store.read()]
    # Every acknowledged row is there, in order; at most one more (appended but not yet
    # acknowledged) row may follow, and at most one line may be damaged.
    assert stored[:len(reported)] == reported
    assert len(stored) - len(reported) in (0, 1)
    path = tmp_path / "sessions-2026-11-25.csv"
    assert len(data_lines(path)) - len(stored) in (0, 1)

    after = make_record(7, datetime(2026, 11, 25, 11, tzinfo=UTC))
    store.append(after)
    assert store.read()[-1] == after
    assert store.count() == len(stored) + 1


def _shares(weights: list[float]) -> dict[str, float]:
    total = sum(weights)
    return {e: w * 100.0 / total for e, w in zip(EMOTIONS, weights)}


@settings(max_examples=60, deadline=None)
@given(
    weights=st.lists(st.floats(0.0, 1000.0), min_size=7, max_size=7).filter(lambda w: sum(w) > 1),
    ended_at=st.datetimes(datetime(2000, 1, 1), datetime(2099, 12, 31),
                          timezones=st.sampled_from([UTC, timezone(timedelta(hours=-7)),
                                                     timezone(timedelta(hours=5, minutes=30))])),
    duration_s=st.floats(0.0, 86400.0),
    frames=st.integers(0, 10**9),
    camera_id=st.text(st.characters(min_codepoint=32, exclude_characters="\x7f",
                                    exclude_categories=("Cs",)), min_size=1,
                      max_size=20),
    dominant=st.sampled_from(EMOTIONS),
)
def test_any_valid_record_round_trips(weights, ended_at, duration_s, frames, camera_id,
                                      dominant) -> None:
    record = SessionRecord("sid", camera_id, ended_at - timedelta(seconds=duration_s), ended_at,
                           duration_s, frames, dominant, _shares(weights))
    with tempfile.TemporaryDirectory() as tmp:
        store = SessionStore(Path(tmp), retention_days=30)
        path = store.append(record)
        (back,) = store.read()
    assert path.name == f"sessions-{ended_at.astimezone(UTC).date().isoformat()}.csv"
    assert (back.session_id, back.camera_id, back.frames) == ("sid", camera_id, frames)
    assert back.dominant_emotion == dominant
    for got, sent in ((back.started_at, record.started_at), (back.ended_at, record.ended_at)):
        sent = sent.astimezone(UTC)
        assert got == sent.replace(microsecond=sent.microsecond // 1000 * 1000)
    assert back.duration_s == float(f"{duration_s:.3f}")
    assert back.shares == {e: float(f"{v:.2f}") for e, v in record.shares.items()}
    assert abs(sum(back.shares.values()) - 100.0) <= 0.1


def test_an_id_that_is_not_valid_unicode_is_refused_not_crashing(tmp_path):
    """Hypothesis once found a lone surrogate crash the writer; the store now refuses it."""
    import dataclasses

    from affectra_edge.storage import format_row
    from tests.test_cli import make_record

    record = dataclasses.replace(make_record(datetime(2026, 1, 1, tzinfo=UTC), "happy", 2.0),
                                 camera_id="\ud800")
    with pytest.raises(ValueError, match="valid Unicode"):
        format_row(record)
