"""Statistics over ended viewer sessions, computed with pandas.

Choices, so every consumer (web UI, MQTT state, CLI) reports the same numbers:

* A session belongs to the day and hour of its END time (as the CSV files do), seen in ``tz``
  (UTC unless a local zone is given).
* ``shares`` is the duration-weighted mean of the sessions' shares: a viewer who watched for a
  minute counts six times as much as one who glanced for ten seconds, so the result says how
  the audience felt per second of attention. If every weight is zero (all durations 0) the plain
  mean is used. The result is renormalised to sum to exactly 100; with no sessions every share
  is 0.0. ``as_dict`` rounds shares to 2 decimals by largest remainder, so they still sum to
  100.00.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

import pandas as pd

from affectra_edge.emotions import EMOTIONS
from affectra_edge.records import SessionRecord

PER_DAY_DAYS = 30
_BAR_WIDTH = 20


@dataclass(frozen=True)
class Stats:
    """A snapshot of the statistics; ``day`` is the date of ``now`` in the chosen zone."""

    day: date
    sessions_total: int
    sessions_today: int
    viewers_now: int
    top_emotion: str | None
    average_duration_s: float | None
    shares: dict[str, float]
    per_hour: list[dict[str, Any]]  # 24 x {"hour": int, "sessions": int, "shares": {...}}
    per_day: list[dict[str, Any]]  # 30 x {"date": date, "sessions": int, "shares": {...}}

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready copy: ISO dates, floats rounded to 2 decimals."""
        duration = self.average_duration_s
        return {
            "day": self.day.isoformat(),
            "sessions_total": self.sessions_total,
            "sessions_today": self.sessions_today,
            "viewers_now": self.viewers_now,
            "top_emotion": self.top_emotion,
            "average_duration_s": None if duration is None else round(duration, 2),
            "shares": round_shares(self.shares),
            "per_hour": [{"hour": e["hour"], "sessions": e["sessions"],
                          "shares": round_shares(e["shares"])} for e in self.per_hour],
            "per_day": [{"date": e["date"].isoformat(), "sessions": e["sessions"],
                         "shares": round_shares(e["shares"])} for e in self.per_day],
        }


def _zero_shares() -> dict[str, float]:
    return {emotion: 0.0 for emotion in EMOTIONS}


def round_shares(shares: dict[str, float]) -> dict[str, float]:
    """Shares rounded to 2 decimals that still sum to exactly 100 (all 0.0 if they sum to 0)."""
    total = math.fsum(shares.values())
    if total <= 0:
        return _zero_shares()
    exact = {e: shares[e] * 10000.0 / total for e in EMOTIONS}
    cents = {e: math.floor(v) for e, v in exact.items()}
    missing = 10000 - sum(cents.values())
    by_remainder = sorted(EMOTIONS, key=lambda e: (cents[e] - exact[e], EMOTIONS.index(e)))
    for emotion in by_remainder[:missing]:
        cents[emotion] += 1
    return {e: cents[e] / 100 for e in EMOTIONS}


def _weighted_shares(frame: pd.DataFrame) -> dict[str, float]:
    """Duration-weighted mean shares of the sessions in ``frame``, summing to 100."""
    if frame.empty:
        return _zero_shares()
    weights = frame["duration_s"].clip(lower=0.0)
    if weights.sum() <= 0:
        weights = pd.Series(1.0, index=frame.index)
    totals = frame[list(EMOTIONS)].mul(weights, axis=0).sum()
    grand = float(totals.sum())
    if grand <= 0:
        return _zero_shares()
    return {e: float(totals[e]) * 100.0 / grand for e in EMOTIONS}


def _frame(records: Sequence[SessionRecord], tz: tzinfo) -> pd.DataFrame:
    frame = pd.DataFrame({
        "ended": pd.to_datetime([r.ended_at for r in records], utc=True),
        "duration_s": [float(r.duration_s) for r in records],
        "dominant": [r.dominant_emotion for r in records],
        **{e: [float(r.shares[e]) for r in records] for e in EMOTIONS},
    })
    local = frame["ended"].dt.tz_convert(tz)
    frame["date"] = local.dt.date
    frame["hour"] = local.dt.hour
    return frame


def _top_emotion(dominant: pd.Series) -> str | None:
    counts = dominant.value_counts()
    if counts.empty:
        return None
    # Most sessions wins; a tie goes to the emotion listed first in EMOTIONS.
    return max(EMOTIONS, key=lambda e: (int(counts.get(e, 0)), -EMOTIONS.index(e)))


def compute_stats(records: Sequence[SessionRecord], now: datetime, viewers_now: int = 0,
                  tz: tzinfo = UTC) -> Stats:
    """Statistics of ``records`` as seen at ``now`` (tz-aware); days and hours are in ``tz``."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    today = now.astimezone(tz).date()
    days = [today - timedelta(days=n) for n in range(PER_DAY_DAYS - 1, -1, -1)]
    if not records:
        return Stats(today, 0, 0, viewers_now, None, None, _zero_shares(),
                     [{"hour": h, "sessions": 0, "shares": _zero_shares()} for h in range(24)],
                     [{"date": d, "sessions": 0, "shares": _zero_shares()} for d in days])
    frame = _frame(records, tz)
    today_rows = frame[frame["date"] == today]
    by_hour = dict(tuple(today_rows.groupby("hour")))
    window = frame[(frame["date"] >= days[0]) & (frame["date"] <= today)]
    by_day = dict(tuple(window.groupby("date")))
    empty = frame.iloc[0:0]
    return Stats(
        day=today,
        sessions_total=len(frame),
        sessions_today=len(today_rows),
        viewers_now=viewers_now,
        top_emotion=_top_emotion(frame["dominant"]),
        average_duration_s=float(frame["duration_s"].mean()),
        shares=_weighted_shares(frame),
        per_hour=[{"hour": h, "sessions": len(by_hour.get(h, empty)),
                   "shares": _weighted_shares(by_hour.get(h, empty))} for h in range(24)],
        per_day=[{"date": d, "sessions": len(by_day.get(d, empty)),
                  "shares": _weighted_shares(by_day.get(d, empty))} for d in days],
    )


def format_stats_table(stats: Stats) -> str:
    """A short plain-text summary for the ``affectra stats`` command."""
    duration = stats.average_duration_s
    lines = [
        f"Visitors total         {stats.sessions_total}",
        f"Visitors today         {stats.sessions_today}  ({stats.day.isoformat()})",
        f"Viewers now            {stats.viewers_now}",
        f"Most frequent emotion  {stats.top_emotion or '-'}",
        f"Average duration       {'-' if duration is None else f'{duration:.1f} s'}",
        "Emotion shares (weighted by viewing time):",
    ]
    for emotion, share in round_shares(stats.shares).items():
        filled = round(share / 100.0 * _BAR_WIDTH)
        bar = "#" * filled + "." * (_BAR_WIDTH - filled)
        lines.append(f"  {emotion:<9} {share:6.2f} %  [{bar}]")
    return "\n".join(lines)
