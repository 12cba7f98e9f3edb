"""Logging, configured once: journald-friendly, with credentials redacted.

Under systemd (``JOURNAL_STREAM`` or ``INVOCATION_ID`` set) lines carry a syslog priority
prefix such as ``<3>`` and no timestamp, because the journal adds its own and reads the
prefix, so ``journalctl -p err`` works. In a terminal lines get a timestamp and the level.
"""

from __future__ import annotations

import logging
import os
import re
import sys

# scheme://user:password@host -> scheme://***:***@host, up to the LAST "@" of the URL, so a
# password holding "@" or "/" is hidden whole (a path holding "@" is hidden too: better
# too much than too little). Also secret-looking query values such as ?api_key=...
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^\s]*@")
# user:password@host written without a scheme (as people paste them into forms).
_BARE_CREDENTIALS = re.compile(r"(?<![\w/:@.*-])[^\s:/@]+:[^\s/@]+@(?=[\w\[])")
_SECRET_QUERY = re.compile(
    r"(?i)([a-z0-9_.-]*(?:pas|pwd|psw|pw|token|secret|key|auth)[a-z0-9_.-]*)=[^&\s]+")
_SYSLOG_PRIORITY = {
    logging.CRITICAL: 2, logging.ERROR: 3, logging.WARNING: 4, logging.INFO: 6, logging.DEBUG: 7,
}


def redact(text: str) -> str:
    """Hide credentials in URLs and secret-looking query values."""
    text = _URL_CREDENTIALS.sub(lambda m: m.group("scheme") + "***:***@", text)
    text = _BARE_CREDENTIALS.sub("***:***@", text)
    return _SECRET_QUERY.sub(lambda m: m.group(1) + "=***", text)


def under_systemd() -> bool:
    return bool(os.environ.get("JOURNAL_STREAM") or os.environ.get("INVOCATION_ID"))


class RedactingFormatter(logging.Formatter):
    def __init__(self, journald: bool):
        if journald:
            fmt = "%(levelname)s %(name)s: %(message)s"
        else:
            fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s"
        super().__init__(fmt)
        self.journald = journald

    def format(self, record: logging.LogRecord) -> str:
        text = redact(super().format(record))
        if self.journald:
            priority = _SYSLOG_PRIORITY.get(record.levelno, 6)
            text = "\n".join(f"<{priority}>{line}" for line in text.splitlines())
        return text


def setup_logging(level: str = "INFO", journald: bool | None = None) -> None:
    """Configure the root logger once; calling again only changes the level."""
    root = logging.getLogger()
    root.setLevel(level.upper())
    if any(getattr(h, "_affectra", False) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter(under_systemd() if journald is None else journald))
    handler._affectra = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    for noisy in ("PIL", "matplotlib", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # Waitress warns "Task queue depth is N" on every queued request under load: tens of
    # thousands of lines a minute would flood the journal of a busy box.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
