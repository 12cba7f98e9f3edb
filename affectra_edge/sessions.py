"""Viewer sessions: a small state machine per followed face.

A track seen by the analyzer is a *candidate* viewer. It becomes a *session* once it has been
seen for ``min_dwell_s`` seconds, in at least ``min_frames`` frames, and has been classified at
least once. It stays a session through gaps shorter than ``absence_timeout_s``; after a longer
gap it ends, at the time it was last seen, and yields a :class:`SessionRecord`. Faces smaller
than ``min_face_px`` are not observed at all, so they never become sessions.

Emotion shares are the share of the session's classifications in which each emotion was the
top one ("happy 70 %" reads as "looked happy 70 % of the time"); the dominant emotion is the
largest share, ties going to the earlier emotion in :data:`EMOTIONS`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from affectra_edge.emotions import EMOTIONS
from affectra_edge.records import SessionRecord


@dataclass(frozen=True)
class Observation:
    """One face of one frame, as the session tracker needs it."""

    track_id: int
    box: tuple[int, int, int, int]  # x, y, w, h in pixels
    top_emotion: str | None = None  # set only on frames where the face was classified


@dataclass
class SessionUpdate:
    started: list[str] = field(default_factory=list)  # ids of sessions that began
    ended: list[SessionRecord] = field(default_factory=list)


@dataclass
class _Viewer:
    first_seen: float  # monotonic-style times: dwell, gaps and duration
    last_seen: float
    first_wall: float  # wall-clock (epoch) times: what the record says
    last_wall: float
    frames: int = 0
    votes: list[int] = field(default_factory=lambda: [0] * len(EMOTIONS))
    session_id: str | None = None  # set once the candidate became a session

    @property
    def classifications(self) -> int:
        return sum(self.votes)


class SessionTracker:
    """Turns per-frame observations of tracks into viewer sessions."""

    def __init__(self, camera_id: str, min_dwell_s: float = 1.5, absence_timeout_s: float = 2.0,
                 min_face_px: int = 40, min_frames: int = 3):
        if absence_timeout_s <= 0:
            raise ValueError("absence_timeout_s must be positive")
        self.camera_id = camera_id
        self.min_dwell_s = min_dwell_s
        self.absence_timeout_s = absence_timeout_s
        self.min_face_px = min_face_px
        self.min_frames = max(1, min_frames)
        self._viewers: dict[int, _Viewer] = {}

    @property
    def viewers_now(self) -> int:
        """Sessions that have started and not yet ended."""
        # A copy: the web UI and the MQTT publisher ask from other threads while the
        # analyzer changes the dict.
        return sum(1 for v in list(self._viewers.values()) if v.session_id)

    def observe(self, observations: Iterable[Observation], when: float,
                wall: float | None = None) -> SessionUpdate:
        """Feed the faces of one frame taken at ``when``.

        ``when`` is a steady clock (``time.monotonic()`` in the daemon, video time in a file)
        that gaps and durations are measured on; ``wall`` is the epoch time of the same moment
        for the record's start and end (default: ``when``). A step of the wall clock (NTP on a
        box without a real-time clock) thus never splits or prolongs a session.
        """
        wall = when if wall is None else wall
        update = SessionUpdate()
        for obs in observations:
            if min(obs.box[2], obs.box[3]) < self.min_face_px:
                continue
            viewer = self._viewers.get(obs.track_id)
            if viewer is None or when - viewer.last_seen > self.absence_timeout_s:
                if viewer is not None:  # same id back after too long: the old one has ended
                    self._end(obs.track_id, update)
                viewer = self._viewers[obs.track_id] = _Viewer(when, when, wall, wall)
            if when >= viewer.last_seen:
                viewer.last_seen, viewer.last_wall = when, wall
            viewer.frames += 1
            if obs.top_emotion is not None:
                viewer.votes[EMOTIONS.index(obs.top_emotion)] += 1
            if viewer.session_id is None and self._qualifies(viewer):
                viewer.session_id = uuid.uuid4().hex
                update.started.append(viewer.session_id)
        for track_id in [t for t, v in self._viewers.items()
                         if when - v.last_seen > self.absence_timeout_s]:
            self._end(track_id, update)
        return update

    def close_all(self) -> list[SessionRecord]:
        """End every open session now (at shutdown), at the time each was last seen."""
        update = SessionUpdate()
        for track_id in list(self._viewers):
            self._end(track_id, update)
        return update.ended

    def _qualifies(self, viewer: _Viewer) -> bool:
        return (viewer.last_seen - viewer.first_seen >= self.min_dwell_s
                and viewer.frames >= self.min_frames and viewer.classifications > 0)

    def _end(self, track_id: int, update: SessionUpdate) -> None:
        viewer = self._viewers.pop(track_id)
        if viewer.session_id is not None:
            update.ended.append(self._record(viewer))

    def _record(self, viewer: _Viewer) -> SessionRecord:
        shares = shares_from_votes(viewer.votes)
        return SessionRecord(
            session_id=viewer.session_id or "",
            camera_id=self.camera_id,
            started_at=datetime.fromtimestamp(viewer.first_wall, UTC),
            ended_at=datetime.fromtimestamp(viewer.last_wall, UTC),
            duration_s=round(viewer.last_seen - viewer.first_seen, 3),
            frames=viewer.frames,
            dominant_emotion=dominant(shares),
            shares=shares,
        )


def shares_from_votes(votes: Sequence[int]) -> dict[str, float]:
    """Percentages (2 decimals) that sum to exactly 100.00 when there is any vote."""
    total = sum(votes)
    if total <= 0:
        raise ValueError("a session needs at least one classification")
    # Largest-remainder rounding in hundredths keeps the rounded sum exact.
    raw = [v * 10_000 / total for v in votes]
    cents = [int(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - cents[i], reverse=True)
    for i in order[: 10_000 - sum(cents)]:
        cents[i] += 1
    return {emotion: c / 100 for emotion, c in zip(EMOTIONS, cents)}


def dominant(shares: dict[str, float]) -> str:
    return max(EMOTIONS, key=lambda e: (shares[e], -EMOTIONS.index(e)))
