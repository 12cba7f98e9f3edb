"""The daemon's own health checks, behind the systemd watchdog, and its one-line status.

The watchdog is pinged only while every analysis loop has come round within
``ANALYZER_DEADLINE_S`` and the web UI answers ``/healthz`` on loopback. A wedged analyzer or
a hung web server stops the pings, and systemd restarts the service (``WatchdogSec=``);
the reason is logged once, as one line, before that happens.
"""

from __future__ import annotations

import http.client
import logging
import os
import re
import time

log = logging.getLogger(__name__)

ANALYZER_DEADLINE_S = 10.0  # a loop turn waits at most 0.5 s for a frame, analysis ~ms
WEB_TIMEOUT_S = 2.0


def web_answers(host: str, port: int) -> str | None:
    """None if ``/healthz`` answers (any HTTP status), else why not."""
    target = "127.0.0.1" if host in ("", "0.0.0.0") else "::1" if host == "::" else host
    connection = http.client.HTTPConnection(target, port, timeout=WEB_TIMEOUT_S)
    try:
        connection.request("GET", "/healthz", headers={"Connection": "close"})
        connection.getresponse().read()
        return None
    except (OSError, http.client.HTTPException) as exc:
        return f"the web UI on port {port} does not answer ({exc})"
    finally:
        connection.close()


def problem(daemon) -> str | None:
    """Why the daemon is not healthy now, or None."""
    for pipeline in daemon.supervisor.pipelines:
        stuck = pipeline.stuck_for_s()
        if stuck > ANALYZER_DEADLINE_S:
            return (f"the analyzer of camera {pipeline.camera.id} has made no progress for "
                    f"{stuck:.0f} s")
    if daemon.web is not None:
        return web_answers(daemon.web.host, daemon.web.port)
    return None


class Watchdog:
    """Pings systemd's watchdog at its interval while :func:`problem` finds nothing."""

    def __init__(self, notifier, daemon):
        self._notifier, self._daemon = notifier, daemon
        self._last_ping = 0.0
        self._reported: str | None = None

    def tick(self) -> None:
        interval = self._notifier.watchdog_interval_s
        now = time.monotonic()
        if interval is None or now - self._last_ping < interval:
            return
        found = problem(self._daemon)
        if found is None:
            if self._reported:
                log.warning("healthy again (%s no more); watchdog pings resume", self._reported)
                self._reported = None
            self._notifier.watchdog()
            self._last_ping = now
        elif self._reported is None or _reason(found) != _reason(self._reported):
            self._reported = found  # one line per problem, not one per tick as it ages
            log.error("unhealthy: %s; no more watchdog pings, so systemd will restart "
                      "affectra", found)


def _reason(found: str) -> str:
    """``found`` without its figures: "no progress for 12 s" is the same problem at 13 s."""
    return re.sub(r"\d+", "#", found)


def status_text(daemon) -> str:
    """For `systemctl status`: "2 cameras online, 1 viewer, 143 sessions today"."""
    statuses = daemon.supervisor.statuses()
    online = sum(s.state == "online" for s in statuses)
    viewers = daemon.viewers_now()
    text = (f"{online} of {len(statuses)} camera{'s' if len(statuses) != 1 else ''} online, "
            f"{viewers} viewer{'s' if viewers != 1 else ''}, "
            f"{daemon.sessions_today} session{'s' if daemon.sessions_today != 1 else ''} today")
    if daemon.config.mqtt.active:
        text += f", MQTT {daemon.mqtt_status()['state']}"
    return text


def report(daemon) -> dict:
    """What `affectra status` shows: the running daemon as it sees itself."""
    from affectra_edge import __version__

    cameras = []
    for status in daemon.supervisor.statuses():
        pipeline = daemon.supervisor.pipeline(status.camera_id)
        cameras.append({**status.as_dict(),
                        "analysis_fps": round(pipeline.analysis_fps(), 1) if pipeline else 0.0,
                        "faces": pipeline.faces_in_view() if pipeline else 0})
    web = daemon.web
    return {"version": __version__, "pid": os.getpid(), "device": daemon.config.device.id,
            "started_at": daemon.started_at, "uptime_s": round(time.time() - daemon.started_at),
            "status": status_text(daemon), "problem": problem(daemon),
            "failure": daemon.failure, "cameras": cameras,
            "viewers_now": daemon.viewers_now(), "sessions_today": daemon.sessions_today,
            "sessions_total": daemon.store.count() if daemon.store else 0,
            "mqtt": daemon.mqtt_status(),
            "web": {"host": web.host, "port": web.port} if web else None}
