import logging
import shutil
import time
from datetime import UTC, datetime

from affectra_edge.logs import RedactingFormatter, redact
from affectra_edge.sinks import SessionWriter
from affectra_edge.storage import SessionStore
from tests.test_cli import make_record


def test_credentials_in_urls_are_redacted():
    assert redact("rtsp://admin:hunter2@10.0.0.5:554/live") == "rtsp://***:***@10.0.0.5:554/live"
    assert redact("http://user@cam.local/stream") == "http://***:***@cam.local/stream"
    assert redact("http://cam/capture?token=abc&x=1") == "http://cam/capture?token=***&x=1"
    assert redact("no secrets here: http://cam.local:81/stream") == \
        "no secrets here: http://cam.local:81/stream"
    # Passwords holding "/" or "@" are hidden whole; so are api_key-like query values.
    assert redact("rtsp://admin:ab/cd@h/x") == "rtsp://***:***@h/x"
    assert redact("rtsp://admin:p@ss@cam:554/") == "rtsp://***:***@cam:554/"
    assert redact("http://cam/x?api_key=SECRET&a=1") == "http://cam/x?api_key=***&a=1"
    assert redact("http://cam/videostream.cgi?user=admin&pass=hunter2") == \
        "http://cam/videostream.cgi?user=admin&pass=***"
    assert redact("http://cam/x.cgi?usr=a&pwd=1&psw=2&loginpas=3") == \
        "http://cam/x.cgi?usr=a&pwd=***&psw=***&loginpas=***"
    assert redact("camera admin:pw@cam.local/stream") == "camera ***:***@cam.local/stream"
    assert redact("meeting at 10:30 with bob@example.com") == \
        "meeting at 10:30 with bob@example.com"
    assert redact("rtsp://a:b@h/1 and http://c:d@e/2") == "rtsp://***:***@h/1 and http://***:***@e/2"


def wait_for_log(caplog, text: str, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not any(text in r.message for r in caplog.records):
        assert time.monotonic() < deadline, f"no log record with {text!r}"
        time.sleep(0.02)


def record_for(formatter, level, message):
    rec = logging.LogRecord("affectra_edge.x", level, __file__, 1, message, (), None)
    return formatter.format(rec)


def test_journald_lines_carry_priority_and_no_timestamp():
    journald = RedactingFormatter(journald=True)
    line = record_for(journald, logging.ERROR, "camera door offline: rtsp://a:b@cam/x")
    assert line == "<3>ERROR affectra_edge.x: camera door offline: rtsp://***:***@cam/x"
    assert record_for(journald, logging.WARNING, "w").startswith("<4>")
    assert record_for(journald, logging.INFO, "i").startswith("<6>")
    terminal = RedactingFormatter(journald=False)
    assert record_for(terminal, logging.INFO, "hello")[:2] == "20"  # a timestamp first


def test_the_writer_retries_a_failing_disk_and_loses_nothing(tmp_path, caplog):
    blocker = tmp_path / "sessions"
    blocker.write_text("a file where the sessions directory should be")
    writer = SessionWriter(SessionStore(blocker, 30), retry_s=0.05)
    writer.start()
    records = [make_record(datetime.now(UTC), "happy", 5.0 + i) for i in range(3)]
    for record in records:
        writer.submit(record)
    caplog.set_level(logging.ERROR)
    wait_for_log(caplog, "retrying")
    blocker.unlink()  # the disk recovers
    assert writer.close(timeout_s=10)
    assert writer.written == 3
    assert len(SessionStore(blocker, 30).read()) == 3
    shutil.rmtree(blocker)


def test_a_disk_that_never_recovers_is_named_in_the_log_at_close(tmp_path, caplog):
    blocker = tmp_path / "sessions"
    blocker.write_text("not a directory")
    writer = SessionWriter(SessionStore(blocker, 30), retry_s=0.05)
    writer.start()
    record = make_record(datetime.now(UTC), "sad", 3.0)
    writer.submit(record)
    caplog.set_level(logging.ERROR)
    wait_for_log(caplog, "retrying")
    assert writer.close(timeout_s=10)
    assert writer.written == 0
    assert any(f"session {record.session_id}" in r.message and "NOT written" in r.message
               for r in caplog.records)
