"""Statistics over a known set of sessions."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from affectra_edge.emotions import EMOTIONS
from affectra_edge.records import SessionRecord
from affectra_edge.stats import Stats, compute_stats, format_stats_table, round_shares

NOW = datetime(2026, 11, 25, 15, 30, tzinfo=UTC)


def session(n: int, ended_at: datetime, duration_s: float, dominant: str,
            **shares: float) -> SessionRecord:
    values = {e: 0.0 for e in EMOTIONS} | (shares or {dominant: 100.0})
    return SessionRecord(f"s{n}", "cam", ended_at - timedelta(seconds=duration_s), ended_at,
                         duration_s, 25, dominant, values)


@pytest.fixture
def records() -> list[SessionRecord]:
    return [
        # today (UTC): two happy sessions, two sad ones -> a tie, broken by EMOTIONS order
        session(1, datetime(2026, 11, 25, 9, 0, 10, tzinfo=UTC), 10.0, "happy"),
        session(2, datetime(2026, 11, 25, 9, 59, 59, tzinfo=UTC), 30.0, "sad"),
        session(3, datetime(2026, 11, 25, 14, 0, tzinfo=UTC), 20.0, "happy",
                happy=50.0, neutral=50.0),
        # started yesterday, ended today: counts for today's 00 hour
        session(4, datetime(2026, 11, 25, 0, 0, 5, tzinfo=UTC), 20.0, "sad"),
        # yesterday and 29 / 30 days ago
        session(5, datetime(2026, 11, 24, 23, 59, 59, tzinfo=UTC), 40.0, "neutral"),
        session(6, datetime(2026, 10, 27, 12, tzinfo=UTC), 0.0, "angry"),
        session(7, datetime(2026, 10, 26, 12, tzinfo=UTC), 80.0, "fear"),
    ]


def test_totals_today_and_average(records) -> None:
    stats = compute_stats(records, NOW, viewers_now=3)
    assert stats.day == date(2026, 11, 25)
    assert (stats.sessions_total, stats.sessions_today, stats.viewers_now) == (7, 4, 3)
    assert stats.average_duration_s == pytest.approx(200.0 / 7)


def test_top_emotion_tie_goes_to_the_first_in_emotions_order(records) -> None:
    assert compute_stats(records[:4], NOW).top_emotion == "happy"  # happy 2 : sad 2
    assert EMOTIONS.index("happy") < EMOTIONS.index("sad")
    assert compute_stats(records[1:], NOW).top_emotion == "sad"  # sad 2 : happy 1
    assert compute_stats([records[5], records[6]], NOW).top_emotion == "angry"


def test_shares_are_duration_weighted_and_sum_to_100(records) -> None:
    stats = compute_stats(records, NOW)
    assert sum(stats.shares.values()) == pytest.approx(100.0)
    # weights: happy 10 + 20*0.5, sad 30 + 20, neutral 40 + 20*0.5, angry 0, fear 80; total 200
    expected = {"happy": 10.0, "sad": 25.0, "neutral": 25.0, "fear": 40.0}
    assert stats.shares == pytest.approx({e: expected.get(e, 0.0) for e in EMOTIONS})


def test_zero_durations_fall_back_to_the_plain_mean() -> None:
    flash = [session(1, NOW, 0.0, "happy"), session(2, NOW, 0.0, "sad", sad=60.0, fear=40.0)]
    shares = compute_stats(flash, NOW).shares
    assert shares == pytest.approx({e: 0.0 for e in EMOTIONS} | {"happy": 50, "sad": 30, "fear": 20})


def test_per_hour_buckets_today_by_end_time(records) -> None:
    per_hour = compute_stats(records, NOW).per_hour
    assert [e["hour"] for e in per_hour] == list(range(24))
    assert {e["hour"]: e["sessions"] for e in per_hour if e["sessions"]} == {0: 1, 9: 2, 14: 1}
    assert per_hour[9]["shares"] == pytest.approx(
        {e: 0.0 for e in EMOTIONS} | {"happy": 25.0, "sad": 75.0})
    assert per_hour[14]["shares"]["neutral"] == pytest.approx(50.0)
    assert per_hour[3]["shares"] == {e: 0.0 for e in EMOTIONS}


def test_per_day_has_the_last_30_days(records) -> None:
    per_day = compute_stats(records, NOW).per_day
    assert len(per_day) == 30
    assert per_day[0]["date"] == date(2026, 10, 27) and per_day[-1]["date"] == date(2026, 11, 25)
    counts = {e["date"]: e["sessions"] for e in per_day if e["sessions"]}
    assert counts == {date(2026, 10, 27): 1, date(2026, 11, 24): 1, date(2026, 11, 25): 4}
    assert per_day[0]["shares"]["angry"] == pytest.approx(100.0)  # zero duration, plain mean
    assert sum(per_day[-1]["shares"].values()) == pytest.approx(100.0)


def test_a_local_zone_moves_the_day_and_hour_boundaries(records) -> None:
    plus2 = timezone(timedelta(hours=2))
    stats = compute_stats(records, NOW, tz=plus2)  # 17:30 local on the 25th
    assert stats.day == date(2026, 11, 25)
    # session 5 (23:59:59Z on the 24th) is 01:59:59 local on the 25th; 4 is 02:00:05 local
    assert stats.sessions_today == 5
    assert {e["hour"]: e["sessions"] for e in stats.per_hour if e["sessions"]} == {
        1: 1, 2: 1, 11: 2, 16: 1}


def test_empty_store_gives_zeros() -> None:
    stats = compute_stats([], NOW, viewers_now=1)
    assert (stats.sessions_total, stats.sessions_today, stats.viewers_now) == (0, 0, 1)
    assert stats.top_emotion is None and stats.average_duration_s is None
    assert stats.shares == {e: 0.0 for e in EMOTIONS}
    assert len(stats.per_hour) == 24 and len(stats.per_day) == 30
    assert all(e["sessions"] == 0 for e in stats.per_hour + stats.per_day)
    json.dumps(stats.as_dict())
    assert "Visitors total" in format_stats_table(stats)


def test_as_dict_is_json_ready_and_rounded(records) -> None:
    stats = compute_stats(records, NOW, viewers_now=2)
    data = json.loads(json.dumps(stats.as_dict()))
    assert data["day"] == "2026-11-25"
    assert data["sessions_total"] == 7 and data["viewers_now"] == 2
    assert data["top_emotion"] == "happy"
    assert data["average_duration_s"] == 28.57
    assert data["per_day"][-1]["date"] == "2026-11-25"
    assert data["per_hour"][9] == {"hour": 9, "sessions": 2, "shares": {
        "angry": 0.0, "disgust": 0.0, "fear": 0.0, "happy": 25.0, "sad": 75.0,
        "surprise": 0.0, "neutral": 0.0}}
    assert sum(data["shares"].values()) == pytest.approx(100.0, abs=1e-9)


def test_round_shares_keeps_the_sum_at_100() -> None:
    thirds = {e: 0.0 for e in EMOTIONS} | {"happy": 100 / 3, "sad": 100 / 3, "fear": 100 / 3}
    rounded = round_shares(thirds)
    assert sorted(rounded.values())[-3:] == [33.33, 33.33, 33.34]
    assert round(sum(rounded.values()), 6) == 100.0
    assert round_shares({e: 0.0 for e in EMOTIONS}) == {e: 0.0 for e in EMOTIONS}


def test_naive_now_is_refused(records) -> None:
    with pytest.raises(ValueError):
        compute_stats(records, NOW.replace(tzinfo=None))


def test_table_for_the_cli(records) -> None:
    text = format_stats_table(compute_stats(records, NOW, viewers_now=3))
    lines = text.splitlines()
    assert lines[0].split() == ["Visitors", "total", "7"]
    assert "Viewers now            3" in text
    assert "Most frequent emotion  happy" in text
    assert "Average duration       28.6 s" in text
    fear = next(line for line in lines if line.strip().startswith("fear"))
    assert "40.00 %" in fear and fear.count("#") == 8
    assert all(any(line.strip().startswith(e) for line in lines) for e in EMOTIONS)
    assert isinstance(compute_stats(records, NOW), Stats)
