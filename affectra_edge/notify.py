"""Talking to systemd over sd_notify (``Type=notify`` with ``WatchdogSec=``), via ``sdnotify``.

Outside systemd (no ``NOTIFY_SOCKET``) every call does nothing. The watchdog interval is half
of ``WATCHDOG_USEC``, as sd_watchdog_enabled(3) recommends, and only when ``WATCHDOG_PID`` is
unset or ours.
"""

from __future__ import annotations

import logging
import os

import sdnotify

log = logging.getLogger(__name__)


class Notifier:
    def __init__(self, environ: dict[str, str] | None = None):
        env = os.environ if environ is None else environ
        self.enabled = bool(env.get("NOTIFY_SOCKET"))
        self._notifier = sdnotify.SystemdNotifier() if self.enabled else None
        self.watchdog_interval_s: float | None = None
        usec, pid = env.get("WATCHDOG_USEC", ""), env.get("WATCHDOG_PID", "")
        if self.enabled and usec.isdigit() and int(usec) > 0 and pid in ("", str(os.getpid())):
            self.watchdog_interval_s = int(usec) / 2e6
        self._status = ""

    def _send(self, text: str) -> None:
        if self._notifier is not None:
            self._notifier.notify(text)

    def ready(self, status: str) -> None:
        self._status = status
        self._send(f"READY=1\nSTATUS={status}")
        if self.enabled:
            log.info("told systemd: ready (%s)", status)

    def status(self, status: str) -> None:
        """A line a person reads in `systemctl status affectra`; sent only when it changes."""
        if status != self._status:
            self._status = status
            self._send(f"STATUS={status}")

    def watchdog(self) -> None:
        self._send("WATCHDOG=1")

    def stopping(self) -> None:
        self._send("STOPPING=1\nSTATUS=stopping")
