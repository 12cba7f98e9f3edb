"""Ended sessions waiting for the broker's acknowledgement, bounded, oldest dropped first.

An event leaves the outbox only when the broker has acknowledged it (QoS 1 PUBACK). Events
in flight on a connection that dies are sent again on the next one, so a subscriber may see
an event twice (at least once, never silently lost while the outbox has room); the
``session_id`` tells duplicates apart. The CSV files stay the source of truth.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections import OrderedDict

log = logging.getLogger(__name__)


class Outbox:
    def __init__(self, max_pending: int):
        self.max_pending = max_pending
        self._lock = threading.Lock()
        self._events: OrderedDict[str, bytes] = OrderedDict()  # session_id -> payload
        self._in_flight: dict[int, str] = {}  # message id -> session_id
        self.dropped = 0  # since start
        self.acknowledged = 0
        self._dropped_unreported = 0

    def add(self, session_id: str, payload: bytes) -> None:
        with self._lock:
            self._events[session_id] = payload
            self._events.move_to_end(session_id)
            while len(self._events) > self.max_pending:
                old_id, _ = self._events.popitem(last=False)
                self._in_flight = {m: s for m, s in self._in_flight.items() if s != old_id}
                self.dropped += 1
                self._dropped_unreported += 1
                if self._dropped_unreported == 1:
                    log.warning("MQTT: more than %d ended sessions wait for the broker; "
                                "dropping the oldest (session %s); the CSV files keep them",
                                self.max_pending, old_id)

    def next_unsent(self, limit: int) -> list[tuple[str, bytes]]:
        """Up to ``limit`` events not in flight, oldest first, while fewer than ``limit`` fly."""
        with self._lock:
            room = limit - len(self._in_flight)
            if room <= 0:
                return []
            flying = set(self._in_flight.values())
            unsent = ((sid, payload) for sid, payload in self._events.items()
                      if sid not in flying)
            return list(itertools.islice(unsent, room))  # stops early: the queue may be long

    def sent(self, mid: int, session_id: str) -> None:
        with self._lock:
            if session_id in self._events:
                self._in_flight[mid] = session_id

    def acknowledged_by_broker(self, mid: int) -> None:
        with self._lock:
            session_id = self._in_flight.pop(mid, None)
            if session_id is not None and self._events.pop(session_id, None) is not None:
                self.acknowledged += 1

    def connection_lost(self) -> None:
        """What was in flight goes again on the next connection."""
        with self._lock:
            self._in_flight.clear()

    def take_drop_report(self) -> int:
        """Events dropped since the last report (to log once the broker is back)."""
        with self._lock:
            count, self._dropped_unreported = self._dropped_unreported, 0
            return count

    def __len__(self) -> int:
        with self._lock:
            return len(self._events)
