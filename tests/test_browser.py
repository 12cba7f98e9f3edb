"""The web UI in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright
for Python; no browser is downloaded), against the real daemon on the demo source.

A person's first visit: first run with the logged code, the live image, statistics with the
sessions the test wrote and a drawn chart, a camera added, tested and removed, and clear-all
with its confirmation. The console must show no CSP violation and the page no JS error.
Screenshots of the live, statistics and MQTT settings pages go to build/screenshots/, or to
the folder named by $AFFECTRA_SCREENSHOTS: `make screenshots` refreshes the README's in docs/.
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime, timedelta

import pytest

from affectra_edge.cameras.scene import Appearance
from affectra_edge.config import config_from_dict
from affectra_edge.daemon import Daemon
from affectra_edge.storage import SessionStore
from tests.conftest import ROOT, write_video
from tests.test_cli import make_record

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = ROOT / os.environ.get("AFFECTRA_SCREENSHOTS", "build/screenshots")
PASSWORD = "a fine long password"
SESSIONS = 6


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM) or shutil.which("chromium") is None:
        pytest.fail("Debian's chromium is missing: `make test` installs it (apt-get install "
                    "chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"])
        yield instance
        instance.close()


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    state = tmp_path_factory.mktemp("ui") / "state"
    state.mkdir(mode=0o750)
    store = SessionStore(state / "sessions", 365)
    now = datetime.now(UTC)
    for i in range(SESSIONS):
        store.append(make_record(now - timedelta(minutes=2 * i, seconds=5),
                                 ["happy", "sad", "neutral"][i % 3], 4.0 + i))
    # Two viewers who never leave: their sessions stay open while the test counts the ones
    # it wrote, and the live view has faces to show.
    video = write_video(state.parent / "entrance.avi",
                        [Appearance(0, 99, 0.3, 0.45, 150), Appearance(0, 99, 0.72, 0.5, 125,
                                                                       flip=True)], 6.0)
    config = config_from_dict({"cameras": {"active": "entrance", "sources": [
                                   {"id": "entrance", "kind": "file", "source": str(video),
                                    "loop": True}]},
                               "storage": {"state_dir": str(state)},
                               "web": {"host": "127.0.0.1", "port": 0, "live_fps": 5}})
    running = Daemon(config)
    running.start()
    yield running
    running.shutdown()


@pytest.fixture(scope="module")
def page(browser, daemon):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    tab.on("console", lambda msg: problems.append(f"console: {msg.text}")
           if msg.type == "error" and "Content Security Policy" in msg.text else None)
    tab.problems = problems  # type: ignore[attr-defined]
    tab.base = f"http://127.0.0.1:{daemon.web.port}"  # type: ignore[attr-defined]
    yield tab
    context.close()


def test_1_first_run_with_the_logged_code(page, daemon):
    page.goto(page.base + "/")
    assert page.url.endswith("/setup")
    page.fill("#code", daemon.accounts.setup_code())
    page.fill("#password", PASSWORD)
    page.fill("#password2", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(page.base + "/")
    assert page.title() and page.problems == []


def test_2_the_live_image_updates(page):
    page.goto(page.base + "/")
    live = page.locator("#live")
    page.wait_for_function("() => { const i = document.querySelector('#live');"
                           " return i && i.complete && i.naturalWidth === 640; }", timeout=20000)
    first = live.get_attribute("src")
    page.wait_for_function(f"() => document.querySelector('#live').getAttribute('src') !== "
                           f"{first!r}", timeout=10000)
    page.wait_for_function("() => document.querySelector('#live-state').textContent.trim()"
                           " === 'online'", timeout=10000)
    page.wait_for_function("() => document.querySelector('#faces-now').textContent.trim()"
                           " === '2'", timeout=15000)
    page.wait_for_timeout(1500)  # a frame or two with the emotion labels drawn
    page.screenshot(path=str(SCREENSHOTS / "live.png"))
    assert page.problems == []


def test_3_statistics_show_the_recorded_sessions_and_a_chart(page):
    page.goto(page.base + "/stats")
    page.wait_for_function(f"() => document.querySelector('#stat-total').textContent.trim()"
                           f" === '{SESSIONS}'", timeout=15000)
    drawn = page.evaluate("""() => {
        const c = document.querySelector('#chart-sessions');
        if (!c || c.width === 0 || c.height === 0) return 0;
        const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let painted = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
        return painted; }""")
    assert drawn > 500, "the sessions chart is empty"
    page.screenshot(path=str(SCREENSHOTS / "statistics.png"), full_page=True)
    assert page.problems == []


def test_4_a_camera_is_added_tested_and_removed(page, tmp_path):
    video = write_video(tmp_path / "door.avi", [Appearance(0, 9, 0.5, 0.5, 120)], 2.0)
    page.goto(page.base + "/cameras")
    page.fill("#cam-id", "door")
    page.select_option("#cam-kind", "file")
    page.fill("#cam-source", str(video))
    page.click("#cam-test")
    result = page.locator("#cam-test-result")
    result.wait_for(state="visible", timeout=20000)
    assert "640×480" in result.text_content()
    page.click("#cam-add")
    row = page.locator("#cameras-body tr", has_text="door")
    row.wait_for(timeout=10000)
    row.get_by_role("button", name="Remove").click()
    row.get_by_role("button", name="Really remove?").click()
    row.wait_for(state="detached", timeout=10000)
    assert page.problems == []


def test_5_settings_show_errors_next_to_the_field_and_save(page, daemon):
    page.goto(page.base + "/settings")
    page.wait_for_function("() => document.querySelector('#set-absence').value !== ''",
                           timeout=10000)
    assert "out of bounds" in save_expecting_error(page, "#set-absence", "9999",
                                                  "#err-sessions-absence_timeout_s")
    page.fill("#set-absence", "3.5")
    page.click("#settings-save")
    page.wait_for_function("() => document.querySelector('#settings-result').textContent"
                           ".trim() !== ''", timeout=10000)
    assert daemon.config.sessions.absence_timeout_s == 3.5
    assert page.problems == []


def save_expecting_error(page, field: str, value: str, error_slot: str) -> str:
    """Type ``value`` into ``field``, save, and return the error shown next to the field."""
    page.fill(field, value)
    page.click("#settings-save")
    error = page.locator(error_slot)
    error.wait_for(state="visible", timeout=10000)
    return error.text_content()


def test_5b_mqtt_settings_connect_and_show_the_state(page, daemon, tmp_path):
    from tests.mqtt_broker import Broker, Recorder

    broker = Broker(tmp_path / "broker").start()
    try:
        page.goto(page.base + "/settings")
        page.wait_for_function("() => document.querySelector('#mqtt-state').textContent"
                               " === 'off'", timeout=10000)
        assert "host name or IP address only" in save_expecting_error(
            page, "#set-mqtt-host", "mqtt://127.0.0.1", "#err-mqtt-host")
        page.fill("#set-mqtt-host", "127.0.0.1")
        page.fill("#set-mqtt-port", str(broker.port))
        page.fill("#set-mqtt-username", "sensor")
        page.fill("#set-mqtt-password", "mqtt password 123")
        recorder = Recorder(broker)
        page.click("#settings-save")
        page.wait_for_function("() => document.querySelector('#mqtt-state').textContent"
                               " === 'connected'", timeout=20000)
        assert page.input_value("#set-mqtt-password") == ""  # never sent back to the page
        assert page.get_attribute("#set-mqtt-password", "placeholder") == "(unchanged)"
        assert "session(s) sent" in page.text_content("#mqtt-counts")
        device = daemon.config.device.id
        recorder.wait_for(f"affectra/{device}/availability", lambda m: m.payload == b"online")
        page.screenshot(path=str(SCREENSHOTS / "settings-mqtt.png"), full_page=True)
        recorder.close()
        page.fill("#set-mqtt-host", "")  # MQTT off again for the tests that follow
        page.click("#settings-save")
        page.wait_for_function("() => document.querySelector('#mqtt-state').textContent"
                               " === 'off'", timeout=20000)
    finally:
        broker.stop()
    assert page.problems == []


def test_6_clear_all_asks_first_then_empties_the_statistics(page):
    page.goto(page.base + "/clear")
    assert page.locator("#clear-count").text_content().strip() == str(SESSIONS)
    assert page.locator("#clear-submit").is_disabled()
    page.fill("#clear-confirm", str(SESSIONS + 1))
    assert page.locator("#clear-submit").is_disabled()
    page.fill("#clear-confirm", str(SESSIONS))
    page.click("#clear-submit")
    page.locator("#clear-result").wait_for(state="visible", timeout=10000)
    page.goto(page.base + "/stats")
    page.wait_for_function("() => document.querySelector('#stat-total').textContent.trim()"
                           " === '0'", timeout=15000)
    assert page.problems == []
