"""Statistics computed once per change, not per request.

A background thread recomputes when a session ends (``invalidate()``) and once a minute (so
"today" rolls over and retention shows), and web handlers read the last result. With 10,000
recorded sessions a recompute takes a few hundred milliseconds on a Pi; a request takes none.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from affectra_edge.stats import compute_stats
from affectra_edge.storage import SessionStore

log = logging.getLogger(__name__)


class StatsCache:
    def __init__(self, store: SessionStore, viewers_now: Callable[[], int],
                 refresh_s: float = 60.0, on_change: Callable[[], None] = lambda: None):
        self._store = store
        self._on_change = on_change  # called after each recompute (the MQTT summary)
        self._viewers_now = viewers_now
        self._refresh_s = refresh_s
        self._dirty = threading.Event()
        self._stop = threading.Event()
        self._value: dict = {}
        self._body = b"{}"  # the statistics as JSON, without viewers_now
        self._thread = threading.Thread(target=self._run, name="stats", daemon=True)

    def start(self) -> None:
        self._recompute()
        self._thread.start()

    def invalidate(self) -> None:
        self._dirty.set()

    def get(self) -> dict:
        """The last statistics, with the live viewer count filled in at read time."""
        value = dict(self._value)
        value["viewers_now"] = self._viewers_now()
        return value

    def get_json(self) -> bytes:
        """The same as JSON bytes; only the live viewer count is added per call."""
        body = self._body
        tail = b'"viewers_now": %d}' % self._viewers_now()
        return body[:-1] + (b", " + tail if len(body) > 2 else tail)

    def refresh_now(self) -> dict:
        """Recompute in the caller's thread (after clearing data, say) and return it."""
        self._recompute()
        return self.get()

    def stop(self) -> None:
        self._stop.set()
        self._dirty.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._dirty.wait(self._refresh_s)
            if self._stop.is_set():
                break
            self._dirty.clear()
            self._recompute()

    def _recompute(self) -> None:
        try:
            stats = compute_stats(self._store.read(), datetime.now(UTC))
            value = stats.as_dict()
            value.pop("viewers_now", None)
            self._body = json.dumps(value).encode("utf-8")
            self._value = value
        except Exception:  # keep serving the last good value
            log.exception("statistics could not be computed; serving the previous ones")
            return
        self._on_change()
