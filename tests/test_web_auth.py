"""Web UI auth logic: password hashing, the admin account, first-run code, sessions, limits."""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import stat

import pytest

from affectra_edge.webapp import auth
from affectra_edge.webapp.auth import (
    PASSWORD_MIN_LENGTH,
    Accounts,
    AuthStateError,
    LoginLimiter,
    Sessions,
    check_new_password,
    hash_password,
    set_password_interactive,
    verify_password,
)

GOOD = "correct horse battery"


class FakeClock:
    """Stands in for time.monotonic so expiry is tested without sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# --- hashing -------------------------------------------------------------------------------

def test_hash_round_trip_and_wrong_password():
    stored = hash_password(GOOD)
    assert verify_password(GOOD, stored)
    assert not verify_password(GOOD + "x", stored)
    assert not verify_password("", stored)
    assert GOOD not in stored and GOOD.encode().hex() not in stored


def test_hash_format_and_params_parsed_from_the_string():
    stored = hash_password(GOOD)
    scheme, n, r, p, salt, key = stored.split("$")
    assert (scheme, n, r, p) == ("scrypt", str(2**14), "8", "1")
    assert len(base64.b64decode(salt)) == 16 and len(base64.b64decode(key)) == 32
    assert hash_password(GOOD) != stored  # fresh salt each time
    # a hash made with other (cheaper) parameters still verifies: they come from the string
    kdf = auth.Scrypt(salt=b"s" * 16, length=32, n=2**10, r=4, p=2)
    salt_b64 = base64.b64encode(b"s" * 16).decode()
    other = f"scrypt$1024$4$2${salt_b64}${base64.b64encode(kdf.derive(GOOD.encode())).decode()}"
    assert verify_password(GOOD, other)
    assert not verify_password("wrong password", other)


@pytest.mark.parametrize("stored", [
    "", "garbage", "bcrypt$1$2$3$AAAA$AAAA", "scrypt$1000$8$1$AAAAAAAAAAAAAAAAAAAAAA==$" + "A" * 44,
    "scrypt$1048576$32$1$AAAAAAAAAAAAAAAAAAAAAA==$" + "A" * 44,  # 4 GiB to check: refused
    "scrypt$16384$8$1$not base64!$AAAA", "scrypt$16384$8$1$AAAA$AAAA$extra"])
def test_malformed_or_tampered_hash_is_false_not_an_error(stored):
    assert verify_password(GOOD, stored) is False


def test_unicode_password_and_lone_surrogate_do_not_crash():
    stored = hash_password("pässwörd-ünïcode")
    assert verify_password("pässwörd-ünïcode", stored)
    assert not verify_password("bad\udcff surrogate", stored)


@pytest.mark.parametrize("password, words", [
    ("short", "too short"), ("x" * 257, "too long"), (" " * 20, "only spaces"),
    ("line\nbreak-password", "control"), (None, "text")])
def test_check_new_password_explains(password, words):
    assert words in check_new_password(password)


def test_check_new_password_accepts_min_length():
    assert check_new_password("a" * PASSWORD_MIN_LENGTH) is None
    assert check_new_password("a" * 256) is None


# --- accounts ------------------------------------------------------------------------------

def test_set_password_writes_private_file_atomically(tmp_path):
    accounts = Accounts(tmp_path)
    assert not accounts.has_password() and not accounts.check(GOOD)
    accounts.set_password(GOOD)
    path = tmp_path / "users.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert accounts.has_password() and accounts.check(GOOD) and not accounts.check("nope")
    assert GOOD not in path.read_text()
    first_inode = path.stat().st_ino
    accounts.set_password("another long password")
    assert path.stat().st_ino != first_inode  # replaced by rename, not rewritten in place
    assert sorted(os.listdir(tmp_path)) == ["users.json"]  # no temp file left
    assert json.loads(path.read_text())["admin"]["username"] == "admin"
    assert accounts.check("another long password") and not accounts.check(GOOD)


def test_set_password_refuses_invalid_and_keeps_old(tmp_path):
    accounts = Accounts(tmp_path)
    with pytest.raises(ValueError, match="too short"):
        accounts.set_password("short")
    assert not accounts.has_password()
    accounts.set_password(GOOD)
    with pytest.raises(ValueError, match="only spaces"):
        accounts.set_password(" " * 12)
    assert accounts.check(GOOD)


def test_password_set_by_another_process_is_seen(tmp_path):
    daemon_view = Accounts(tmp_path)
    assert not daemon_view.has_password()
    Accounts(tmp_path).set_password(GOOD)  # e.g. `affectra set-password` in a shell
    assert daemon_view.has_password() and daemon_view.check(GOOD)
    assert daemon_view.setup_code() is None


def test_corrupt_users_file_names_the_file(tmp_path):
    (tmp_path / "users.json").write_text("{not json")
    with pytest.raises(AuthStateError, match="users.json.*set-password"):
        Accounts(tmp_path).has_password()


def test_overlong_or_non_text_login_is_refused(tmp_path):
    accounts = Accounts(tmp_path)
    accounts.set_password(GOOD)
    assert not accounts.check("x" * 10_000)
    assert not accounts.check(None)


# --- first run -----------------------------------------------------------------------------

def test_setup_code_flow(tmp_path, caplog):
    accounts = Accounts(tmp_path)
    with caplog.at_level(logging.INFO, logger="affectra_edge.webapp.auth"):
        code = accounts.announce_setup_code()
        assert accounts.announce_setup_code() == code
    announced = [r for r in caplog.records if code in r.getMessage()]
    assert len(announced) == 1 and announced[0].levelno == logging.WARNING
    assert "affectra set-password" in announced[0].getMessage()
    groups = code.split("-")
    assert len(groups) == 3 and all(len(g) == 4 for g in groups)
    assert not set(code) & set("IO01")
    assert accounts.setup_code() == code  # stable for the process lifetime

    with pytest.raises(ValueError, match="Wrong setup code"):
        accounts.complete_setup("AAAA-BBBB-CCCC", GOOD)
    with pytest.raises(ValueError, match="too short"):  # right code, bad password: code kept
        accounts.complete_setup(code, "short")
    assert not accounts.has_password()
    accounts.complete_setup(" " + code.lower().replace("-", " ") + " ", GOOD)  # forgiving input
    assert accounts.check(GOOD)
    assert accounts.setup_code() is None
    with pytest.raises(ValueError):
        accounts.complete_setup(code, "yet another password")
    assert accounts.check(GOOD)
    for name in os.listdir(tmp_path):  # the code lives in memory only
        data = (tmp_path / name).read_bytes()
        assert code.encode() not in data and code.replace("-", "").encode() not in data
    assert not any(code in r.getMessage() for r in caplog.records if r is not announced[0])


def test_code_stays_invalid_even_if_password_file_removed(tmp_path):
    accounts = Accounts(tmp_path)
    code = accounts.setup_code()
    accounts.complete_setup(code, GOOD)
    (tmp_path / "users.json").unlink()
    assert accounts.setup_code() is None  # once per process lifetime: restart or use the CLI
    with pytest.raises(ValueError, match="Wrong setup code"):
        accounts.complete_setup(code, GOOD)


def test_no_code_when_password_exists(tmp_path, caplog):
    Accounts(tmp_path).set_password(GOOD)
    accounts = Accounts(tmp_path)
    with caplog.at_level(logging.WARNING):
        assert accounts.announce_setup_code() is None
    assert not caplog.records


def test_wrong_codes_count_toward_the_limiter(tmp_path):
    accounts, clock = Accounts(tmp_path), FakeClock()
    limiter = LoginLimiter(max_failures=3, clock=clock)
    accounts.setup_code()
    for _ in range(3):
        assert limiter.allowed("10.0.0.9")[0]
        with pytest.raises(ValueError):
            accounts.complete_setup("WRNG-CODE-XXXX", GOOD)
        limiter.failed("10.0.0.9")  # what the /setup handler does on ValueError
    assert not limiter.allowed("10.0.0.9")[0]


# --- sessions ------------------------------------------------------------------------------

def test_session_expiry_with_fake_clock():
    clock = FakeClock()
    sessions = Sessions(ttl_s=100, clock=clock)
    session = sessions.create()
    assert len(session.token) >= 40 and session.csrf_token != session.token
    clock.now += 60
    assert sessions.get(session.token) is session and session.last_seen == clock.now
    clock.now += 40
    assert sessions.get(session.token) is None
    assert len(sessions) == 0
    assert sessions.get("") is None and sessions.get("nope") is None and sessions.get(None) is None


def test_session_destroy_and_eviction_of_least_recently_seen():
    clock = FakeClock()
    sessions = Sessions(ttl_s=1000, max_sessions=3, clock=clock)
    a, b, c = sessions.create(), sessions.create(), sessions.create()
    clock.now += 1
    assert sessions.get(a.token)  # a is now the most recently seen
    d = sessions.create()
    assert len(sessions) == 3
    assert sessions.get(b.token) is None
    assert all(sessions.get(s.token) for s in (a, c, d))
    sessions.destroy(a.token)
    sessions.destroy("unknown")
    assert sessions.get(a.token) is None and len(sessions) == 2


def test_sessions_have_own_csrf_tokens():
    sessions = Sessions()
    one, two = sessions.create(), sessions.create()
    assert one.csrf_token != two.csrf_token
    assert sessions.check_csrf(one, one.csrf_token)
    assert not sessions.check_csrf(one, two.csrf_token)
    assert not sessions.check_csrf(one, "")
    assert not sessions.check_csrf(one, None)
    assert not sessions.check_csrf(None, one.csrf_token)
    assert not sessions.check_csrf(one, "é" + one.csrf_token[1:])  # non-ASCII: False, no error


# --- login limiter -------------------------------------------------------------------------

def test_limiter_lockout_and_recovery(caplog):
    clock = FakeClock()
    limiter = LoginLimiter(max_failures=5, window_s=300, lockout_s=300, clock=clock)
    with caplog.at_level(logging.WARNING, logger="affectra_edge.webapp.auth"):
        for _ in range(4):
            limiter.failed("192.0.2.7")
        assert limiter.allowed("192.0.2.7") == (True, 0.0)
        limiter.failed("192.0.2.7")
    allowed, wait_s = limiter.allowed("192.0.2.7")
    assert not allowed and wait_s == pytest.approx(300)
    assert limiter.allowed("192.0.2.8") == (True, 0.0)  # per client
    assert "192.0.2.7" in caplog.text
    clock.now += 200
    assert limiter.allowed("192.0.2.7") == (False, pytest.approx(100))
    clock.now += 100
    assert limiter.allowed("192.0.2.7") == (True, 0.0)


def test_limiter_window_forgets_old_failures_and_success_resets():
    clock = FakeClock()
    limiter = LoginLimiter(max_failures=3, window_s=60, clock=clock)
    limiter.failed("a")
    limiter.failed("a")
    clock.now += 61
    limiter.failed("a")  # the first two are out of the window
    assert limiter.allowed("a")[0]
    limiter.failed("b")
    limiter.failed("b")
    limiter.succeeded("b")
    limiter.failed("b")
    assert limiter.allowed("b")[0]


def test_limiter_memory_is_bounded():
    limiter = LoginLimiter(max_failures=1, max_clients=10, clock=FakeClock())
    for index in range(1000):
        limiter.failed(f"10.0.{index // 256}.{index % 256}")
    assert len(limiter) == 10
    assert not limiter.allowed("10.0.3.231")[0]  # the most recent are kept
    assert limiter.allowed("10.0.0.0")[0]


def test_failed_login_log_never_holds_the_password(tmp_path, caplog):
    accounts, limiter = Accounts(tmp_path), LoginLimiter()
    accounts.set_password(GOOD)
    with caplog.at_level(logging.DEBUG):
        attempt = "my-secret-guess-123"
        if not accounts.check(attempt):
            limiter.failed("198.51.100.4")
    assert "198.51.100.4" in caplog.text and attempt not in caplog.text


# --- `affectra set-password` -----------------------------------------------------------------

class TtyInput(io.StringIO):
    def isatty(self) -> bool:
        return True


def scripted(*answers: str):
    replies = iter(answers)
    prompts: list[str] = []

    def fake_getpass(prompt: str) -> str:
        prompts.append(prompt)
        return next(replies)
    return fake_getpass, prompts


def test_set_password_interactive_mismatch(tmp_path):
    fake, prompts = scripted(GOOD, GOOD + "!")
    out = io.StringIO()
    assert set_password_interactive(tmp_path, TtyInput(), out, getpass=fake) == 2
    assert len(prompts) == 2 and "differ" in out.getvalue()
    assert not Accounts(tmp_path).has_password()


def test_set_password_interactive_too_short(tmp_path):
    fake, _ = scripted("short", "short")
    out = io.StringIO()
    assert set_password_interactive(tmp_path, TtyInput(), out, getpass=fake) == 2
    assert "too short" in out.getvalue() and not Accounts(tmp_path).has_password()


def test_set_password_interactive_ok(tmp_path):
    fake, _ = scripted(GOOD, GOOD)
    out = io.StringIO()
    assert set_password_interactive(tmp_path / "state", TtyInput(), out, getpass=fake) == 0
    assert out.getvalue().count("\n") == 1 and GOOD not in out.getvalue()
    assert Accounts(tmp_path / "state").check(GOOD)


def test_set_password_from_a_pipe(tmp_path):
    out = io.StringIO()
    assert set_password_interactive(tmp_path, io.StringIO(f"{GOOD}\n{GOOD}\n"), out) == 0
    assert Accounts(tmp_path).check(GOOD)
    assert set_password_interactive(tmp_path, io.StringIO(""), io.StringIO()) == 2


def test_set_password_interactive_eof(tmp_path):
    def eof(prompt: str) -> str:
        raise EOFError
    assert set_password_interactive(tmp_path, TtyInput(), io.StringIO(), getpass=eof) == 2


def test_setup_code_survives_log_redaction(tmp_path):
    from affectra_edge.logs import RedactingFormatter
    accounts, records = Accounts(tmp_path), []
    handler = logging.Handler()
    handler.emit = records.append
    logging.getLogger("affectra_edge.webapp.auth").addHandler(handler)
    try:
        code = accounts.announce_setup_code()
    finally:
        logging.getLogger("affectra_edge.webapp.auth").removeHandler(handler)
    assert code in RedactingFormatter(journald=True).format(records[0])
