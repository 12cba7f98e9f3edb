"""Sinks for ended sessions, each behind its own bounded queue and thread.

A slow disk never stalls the camera worker; the analyzer only waits when the queue is full,
and then it says so. Nothing is dropped: a failed write is retried until it succeeds or the
daemon stops, and at stop whatever could not be written is named in the log.
"""

from __future__ import annotations

import logging
import queue
import threading

from affectra_edge.records import SessionRecord

log = logging.getLogger(__name__)


class SessionWriter:
    """Appends ended sessions to the store from a thread of its own."""

    def __init__(self, store, max_pending: int = 10_000, retry_s: float = 2.0,
                 on_written=lambda record: None):
        self._store = store
        self._on_written = on_written
        self._closing = threading.Event()  # set by close(): drain, then end
        self._queue: queue.Queue[SessionRecord] = queue.Queue(maxsize=max_pending)
        self._retry_s = retry_s
        self._thread = threading.Thread(target=self._run, name="session-writer", daemon=True)
        self.written = 0

    def start(self) -> None:
        self._thread.start()

    def submit(self, record: SessionRecord) -> None:
        """Queue ``record``; when the queue is full, wait for the writer (never drop)."""
        while True:
            try:
                self._queue.put(record, timeout=1.0)
                return
            except queue.Full:
                if not self._thread.is_alive():
                    log.error("session %s was NOT written: the writer has stopped",
                              record.session_id)
                    return
                log.warning("session writer is %d sessions behind; waiting for the disk",
                            self._queue.qsize())

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def pending(self) -> int:
        return self._queue.qsize()

    def _run(self) -> None:
        while not (self._closing.is_set() and self._queue.empty()):
            try:
                record = self._queue.get(timeout=0.5)
            except queue.Empty:
                continue
            self._write(record)

    def _write(self, record: SessionRecord) -> None:
        last_try = False
        while True:
            try:
                self._store.append(record)
                self.written += 1
                self._tell(record)
                return
            except ValueError as exc:  # a record the store refuses; retrying cannot help
                log.error("session %s cannot be stored and is dropped: %s",
                          record.session_id, exc)
                return
            except OSError as exc:
                if last_try:
                    log.error("session %s (camera %s, ended %s) was NOT written: %s",
                              record.session_id, record.camera_id,
                              record.ended_at.isoformat(), exc)
                    return
                log.error("cannot write session %s: %s; retrying in %g s",
                          record.session_id, exc, self._retry_s)
            # Once closing, the disk gets one more try.
            last_try = self._closing.wait(self._retry_s)

    def _tell(self, record: SessionRecord) -> None:
        """Run the after-write hook (statistics, MQTT); its failure is not the disk's."""
        try:
            self._on_written(record)
        except Exception:
            log.exception("after writing session %s: the follow-up failed; the row is on disk",
                          record.session_id)

    def close(self, timeout_s: float) -> bool:
        """Write what is queued, then end the thread; False if that took too long."""
        self._closing.set()
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            log.error("session writer did not finish in %g s; %d sessions pending",
                      timeout_s, self._queue.qsize())
            return False
        return True
