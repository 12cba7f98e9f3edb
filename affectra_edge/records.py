"""Plain records that cross module boundaries (no cv2, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from affectra_edge.emotions import EMOTIONS


@dataclass(frozen=True)
class SessionRecord:
    """One ended viewer session, as written to the CSV file and published.

    ``shares`` maps each of the seven emotions to a percentage; together they sum to
    100 (within 0.1). Times are timezone-aware UTC datetimes.
    """

    session_id: str
    camera_id: str
    started_at: datetime
    ended_at: datetime
    duration_s: float
    frames: int
    dominant_emotion: str
    shares: dict[str, float]

    def __post_init__(self) -> None:
        if set(self.shares) != set(EMOTIONS):
            raise ValueError(f"shares must name exactly {EMOTIONS}")
        if self.dominant_emotion not in EMOTIONS:
            raise ValueError(f"unknown emotion {self.dominant_emotion!r}")
        if self.started_at.tzinfo is None or self.ended_at.tzinfo is None:
            raise ValueError("session times must be timezone-aware (UTC)")
