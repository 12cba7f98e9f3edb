"""Topics and payloads, as the README documents them (base topic ``affectra/<device_id>``)."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from typing import Any

from affectra_edge.storage import COLUMNS, format_row

ONLINE, OFFLINE = "online", "offline"
# The fields of the ``state`` summary, taken from the statistics the web UI shows.
STATE_FIELDS = ("day", "sessions_today", "sessions_total", "viewers_now", "top_emotion",
                "average_duration_s", "shares")
_INT_COLUMNS = {"frames"}
_TEXT_COLUMNS = {"session_id", "camera_id", "started_at", "ended_at", "dominant_emotion"}


@dataclass(frozen=True)
class Topics:
    base_topic: str
    device_id: str
    discovery_prefix: str

    @property
    def root(self) -> str:
        return f"{self.base_topic}/{self.device_id}"

    @property
    def availability(self) -> str:
        return f"{self.root}/availability"

    @property
    def state(self) -> str:
        return f"{self.root}/state"

    @property
    def session(self) -> str:
        return f"{self.root}/session"

    @property
    def viewer(self) -> str:
        return f"{self.root}/viewer"

    def camera_status(self, camera_id: str) -> str:
        return f"{self.root}/camera/{camera_id}/status"

    @property
    def discovery(self) -> str:
        return f"{self.discovery_prefix}/device/affectra_{self.device_id}/config"

    @property
    def ha_status(self) -> str:
        """Home Assistant's birth and last-will topic."""
        return f"{self.discovery_prefix}/status"


def session_payload(record) -> bytes:
    """The ``session`` event: the record's CSV row as a JSON object, numbers as numbers.

    Built from the very line the CSV file gets, so both say the same to the last digit.
    """
    (fields,) = csv.reader([format_row(record)[:-1]])
    event: dict[str, Any] = {}
    for column, text in zip(COLUMNS, fields, strict=True):
        if column in _TEXT_COLUMNS:
            event[column] = text
        elif column in _INT_COLUMNS:
            event[column] = int(text)
        else:
            event[column] = float(text)
    return json.dumps(event, separators=(",", ":")).encode("utf-8")


def state_payload(stats: dict[str, Any]) -> bytes:
    """The retained ``state`` summary from the statistics (as the web UI shows them)."""
    summary = {name: stats.get(name) for name in STATE_FIELDS}
    return json.dumps(summary, separators=(",", ":")).encode("utf-8")
