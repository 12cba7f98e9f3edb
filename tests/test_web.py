"""The web app served by the daemon's own Waitress on a free loopback port, over real sockets.

The daemon runs for real on the demo source (real models, real sessions); the tests log in
the way a person would: the first-run code from the log, then the password.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

import pytest

from affectra_edge.config import config_from_dict
from affectra_edge.daemon import Daemon
from affectra_edge.storage import SessionStore
from tests.test_cli import make_record
from tests.webclient import WebClient

PASSWORD = "correct horse battery"
HEADERS = {"Content-Security-Policy": "default-src 'self'", "X-Content-Type-Options": "nosniff",
           "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"}
PAGES = ["/", "/stats", "/cameras", "/settings", "/clear"]
API_GETS = ["/api/status", "/api/live.jpg", "/api/stats", "/api/sessions.csv", "/api/cameras",
            "/api/settings", "/api/clear"]


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    state = tmp_path_factory.mktemp("web") / "state"
    state.mkdir(mode=0o750)
    now = datetime.now(UTC)
    store = SessionStore(state / "sessions", 365)
    for i, emotion in enumerate(["happy", "happy", "sad", "neutral"]):
        store.append(make_record(now - timedelta(seconds=30 + i), emotion, 5.0 + i))
    config = config_from_dict({"storage": {"state_dir": str(state)},
                               "web": {"host": "127.0.0.1", "port": 0, "live_fps": 10}})
    running = Daemon(config)
    running.start()
    yield running
    running.shutdown()


@pytest.fixture(scope="module")
def admin(daemon) -> WebClient:
    """A client that went through first run with the code the daemon logged."""
    client = WebClient(daemon.web.port)
    assert client.get("/").location == "setup"
    code = daemon.accounts.setup_code()
    token = client.form_token("/setup")
    wrong = client.form("/setup", {"csrf_token": token, "code": "AAAA-BBBB-CCCC",
                                   "password": PASSWORD, "password2": PASSWORD})
    assert wrong.status == 400 and "code" in wrong.text.lower()
    token = client.form_token("/setup")
    done = client.form("/setup", {"csrf_token": token, "code": code, "password": PASSWORD,
                                  "password2": PASSWORD})
    assert done.status == 303 and done.location == ""
    client.page_csrf("/")
    return client


def assert_security_headers(reply) -> None:
    for name, value in HEADERS.items():
        assert value in (reply.headers.get(name) or ""), (name, reply.status)
    assert "frame-ancestors 'none'" in reply.headers["Content-Security-Policy"]
    assert reply.headers.get("Strict-Transport-Security") is None  # plain HTTP here


def test_healthz_needs_no_login_and_says_how_cameras_are(daemon):
    client = WebClient(daemon.web.port)
    deadline = time.monotonic() + 15
    while client.get("/healthz").json()["cameras"][0]["analysis_fps"] == 0:
        assert time.monotonic() < deadline, "the analyzer never showed progress"
        time.sleep(0.2)
    reply = client.get("/healthz")
    assert reply.status == 200 and reply.json()["status"] == "ok"
    (camera,) = reply.json()["cameras"]
    assert camera["id"] == "demo" and camera["state"] == "online"
    assert_security_headers(reply)


def test_nothing_else_answers_without_a_session(daemon, admin):
    anonymous = WebClient(daemon.web.port)
    for path in PAGES:
        reply = anonymous.get(path)
        assert reply.status == 303 and reply.location == "login", path
        assert_security_headers(reply)
    for path in API_GETS:
        reply = anonymous.get(path)
        assert reply.status == 401, path
        assert_security_headers(reply)
    assert anonymous.post_json("/api/clear", {"confirm": 4}, csrf=False).status == 401


def test_every_page_renders_for_the_admin_with_headers(daemon, admin):
    for path in PAGES:
        reply = admin.get(path)
        assert reply.status == 200, (path, reply.text[:200])
        assert "<script>" not in reply.text and " style=" not in reply.text
        assert_security_headers(reply)
    assert_security_headers(admin.get("/static/app.js"))
    assert_security_headers(admin.get("/no/such/page"))


def test_the_session_cookie_is_httponly_and_strict(daemon):
    client = WebClient(daemon.web.port)
    token = client.form_token("/login")
    reply = client.form("/login", {"csrf_token": token, "password": PASSWORD})
    assert reply.status == 303
    cookie = next(c for c in reply.headers.get_all("Set-Cookie") if "affectra_session" in c)
    assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
    assert "Secure" not in cookie  # plain HTTP here; set when served over HTTPS


def test_failed_logins_are_limited_and_logged_without_the_password(daemon, caplog):
    client = WebClient(daemon.web.port)
    caplog.set_level(logging.INFO)
    statuses = []
    for _ in range(7):
        token = client.form_token("/login")
        statuses.append(client.form("/login", {"csrf_token": token,
                                               "password": "guess-123456"}).status)
    assert statuses[:5] == [401] * 5 and statuses[-1] == 429
    assert "guess-123456" not in caplog.text
    assert "127.0.0.1" in caplog.text


def test_a_login_form_without_its_token_is_refused(daemon):
    client = WebClient(daemon.web.port)
    reply = client.form("/login", {"password": PASSWORD})
    assert reply.status == 403 and "affectra_session" not in client.cookies


def test_writes_without_the_csrf_token_are_refused_and_change_nothing(admin, daemon):
    before = [c.id for c in daemon.cameras.list()]
    camera = {"id": "door", "kind": "mjpeg", "source": "http://127.0.0.1:9/stream"}
    for path, body in [("/api/cameras", camera), ("/api/clear", {"confirm": 4}),
                       ("/api/cameras/demo/enable", {"enabled": False}),
                       ("/api/cameras/demo/remove", {})]:
        reply = admin.post_json(path, body, csrf=False)
        assert reply.status == 403, path
        wrong = admin.request("POST", path, b"{}", {"X-CSRF-Token": "forged"})
        assert wrong.status == 403, path
    assert [c.id for c in daemon.cameras.list()] == before
    assert daemon.store.count() >= 4


@pytest.mark.parametrize("field, value, message", [
    ("id", "<script>alert(1)</script>", "must be 1-48 characters"),
    ("source", "file:///etc/passwd", "must start with http:// or https://"),
    ("source", "javascript:alert(1)", "http:// or https://"),
    ("source", "x" * 10_240, ""),
    ("kind", "../../etc/passwd", "is not one of"),
])
def test_hostile_camera_inputs_get_a_clear_error_and_change_nothing(admin, daemon, field,
                                                                    value, message):
    camera = {"id": "cam1", "kind": "mjpeg", "source": "http://cam.local:81/stream",
              field: value}
    reply = admin.post_json("/api/cameras", camera)
    assert reply.status == 400, reply.text
    error = reply.json()
    assert error["field"] == field and message in error["error"]
    assert "cam1" not in [c.id for c in daemon.cameras.list()]


def test_non_utf8_and_oversized_bodies_are_refused(admin):
    assert admin.post_json("/api/cameras", b"\xff\xfe{\x00").json()["error"] == \
        "the request is not UTF-8 text"
    assert admin.post_json("/api/cameras", b"[1, 2]").status == 400
    assert admin.post_json("/api/cameras", b"{" + b" " * 70_000 + b"}").status == 413


def test_a_camera_is_added_tested_and_removed(admin, daemon):
    test = admin.post_json("/api/cameras/test", {"kind": "file", "source": "/nonexistent.avi"})
    assert test.status == 200 and test.json()["ok"] is False
    assert "no such file" in test.json()["message"]
    added = admin.post_json("/api/cameras", {"id": "lobby", "kind": "mjpeg",
                                             "source": "http://u:pw@127.0.0.1:9/stream"})
    assert added.status == 200, added.text
    listed = {c["id"]: c for c in admin.get("/api/cameras").json()["cameras"]}
    assert listed["lobby"]["display_source"] == "http://***:***@127.0.0.1:9/stream"
    assert "pw@" not in admin.get("/api/cameras").text
    assert admin.post_json("/api/cameras/lobby/remove", {}).status == 200
    assert "lobby" not in [c["id"] for c in admin.get("/api/cameras").json()["cameras"]]


def test_the_live_image_updates(admin):
    deadline = time.monotonic() + 20
    frames = set()
    while len(frames) < 2:
        assert time.monotonic() < deadline, "the live image did not change"
        reply = admin.get("/api/live.jpg?camera=demo")
        if reply.status == 200:
            assert reply.headers["Content-Type"] == "image/jpeg"
            assert reply.body[:3] == b"\xff\xd8\xff"
            frames.add(reply.body)
        time.sleep(0.3)


def test_stats_csv_and_clear(admin, daemon):
    stats = admin.get("/api/stats").json()
    assert stats["sessions_total"] >= 4 and len(stats["per_hour"]) == 24
    csv = admin.get("/api/sessions.csv").text.splitlines()
    assert csv[0].startswith("session_id,camera_id,started_at") and len(csv) >= 5
    assert admin.get("/api/sessions.csv?from=nonsense").status == 400
    count = admin.get("/api/clear").json()["sessions"]
    refused = admin.post_json("/api/clear", {"confirm": count + 1})
    assert refused.status == 400 and str(count) in refused.json()["error"]
    assert daemon.store.count() == count
    cleared = admin.post_json("/api/clear", {"confirm": count})
    assert cleared.status == 200 and cleared.json()["removed"] == count
    assert admin.get("/api/stats").json()["sessions_total"] == 0


def test_settings_are_validated_saved_and_applied(admin, daemon):
    current = admin.get("/api/settings").json()
    assert set(current) == {"sessions", "storage", "mqtt"}
    for body, field in [({"sessions": {"absence_timeout_s": -3}}, "sessions.absence_timeout_s"),
                        ({"sessions": {"min_dwell_s": "<b>1</b>"}}, "sessions.min_dwell_s"),
                        ({"storage": {"retention_days": 10 ** 9}}, "storage.retention_days"),
                        ({"mqtt": {"host": "mqtt://evil:1883"}}, "mqtt.host"),
                        ({"mqtt": {"password": "no user"}}, "mqtt.password"),
                        ({"mqtt": {"port": 0}}, "mqtt.port"),
                        ({"mqtt": {"state_dir": "/tmp"}}, "mqtt.state_dir"),
                        ({"device": {"id": "x"}}, "device"),
                        ({"storage": {"state_dir": "/tmp"}}, "storage.state_dir")]:
        reply = admin.post_json("/api/settings", body)
        assert reply.status == 400 and reply.json()["field"] == field, (body, reply.text)
    assert admin.get("/api/settings").json() == current
    changed = admin.post_json("/api/settings", {"sessions": {"absence_timeout_s": 4.5},
                                                "storage": {"retention_days": 30}})
    assert changed.status == 200, changed.text
    assert changed.json()["sessions"]["absence_timeout_s"] == 4.5
    assert daemon.store.retention_days == 30
    assert all(p.sessions.absence_timeout_s == 4.5 for p in daemon.supervisor.pipelines)
    saved = (daemon.config.state_dir / "settings.json").read_text()
    assert '"retention_days": 30' in saved


def test_static_files_cannot_escape_their_folder(admin):
    for path in ["/static/../../etc/passwd", "/static/%2e%2e/%2e%2e/etc/passwd",
                 "/static/..%2f..%2fsetup.cfg"]:
        reply = admin.get(path)
        assert reply.status in (403, 404), path
        assert b"root:" not in reply.body


def test_ten_open_live_views_leave_the_statistics_responsive(daemon, admin):
    """Ten tabs polling the live image as fast as they can, while stats are asked for."""
    import threading

    stop = threading.Event()

    def viewer():
        tab = WebClient(daemon.web.port)
        tab.cookies = dict(admin.cookies)
        while not stop.is_set():
            tab.get("/api/live.jpg")

    tabs = [threading.Thread(target=viewer, daemon=True) for _ in range(10)]
    for tab in tabs:
        tab.start()
    try:
        for _ in range(20):
            assert admin.get("/api/stats").status == 200  # answered, within the client timeout
    finally:
        stop.set()
        for tab in tabs:
            tab.join(15)


def test_hsts_and_secure_cookies_only_over_https(daemon):
    """Behind a TLS-terminating proxy Waitress reports the scheme as https; the same app is
    called here with such a request (no TLS listener is part of the product)."""
    import io

    from affectra_edge.webapp.app import create_app
    from affectra_edge.webapp.auth import LoginLimiter, Sessions
    from affectra_edge.webapp.context import WebContext

    ctx = WebContext(daemon.config, daemon, daemon.accounts, Sessions(), LoginLimiter(),
                     daemon.web_assets)
    app = create_app(ctx)
    seen = {}

    def call(scheme: str) -> dict:
        environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/login", "SERVER_NAME": "box",
                   "SERVER_PORT": "443", "wsgi.url_scheme": scheme, "wsgi.input": io.BytesIO(),
                   "wsgi.errors": io.StringIO(), "SERVER_PROTOCOL": "HTTP/1.1"}
        app(environ, lambda status, headers, exc=None: seen.update(headers=headers))
        return dict(seen["headers"])

    assert "Strict-Transport-Security" in call("https")
    assert "Strict-Transport-Security" not in call("http")


def test_non_numbers_and_protocol_paths_are_refused(admin, daemon):
    for body in (b'{"sessions": {"min_dwell_s": NaN}}', b'{"sessions": {"min_dwell_s": Infinity}}'):
        reply = admin.post_json("/api/settings", body)
        assert reply.status == 400 and "not valid JSON" in reply.json()["error"]
    huge = admin.post_json("/api/settings", {"sessions": {"min_dwell_s": 1e400}})
    assert huge.status == 400
    for source in ("/tmp/x:concat", "concat:/etc/passwd|/etc/hosts"):
        reply = admin.post_json("/api/cameras", {"id": "f1", "kind": "file", "source": source})
        assert reply.status == 400 and reply.json()["field"] == "source", reply.text
    assert "f1" not in [c.id for c in daemon.cameras.list()]


def test_big_bodies_are_refused_before_login(daemon):
    """Waitress answers 413 and may close the socket while the body is still being sent:
    either way the 2 MiB upload is refused."""
    client = WebClient(daemon.web.port)
    small = client.request("POST", "/login", b"--x--",
                           {"Content-Type": "multipart/form-data; boundary=x"})
    assert small.status == 403  # not even a small multipart body is parsed
    try:
        reply = client.request("POST", "/login", b"x" * (2 << 20),
                               {"Content-Type": "multipart/form-data; boundary=x"})
    except (ConnectionResetError, BrokenPipeError):
        return  # refused mid-upload
    assert reply.status in (403, 413)
