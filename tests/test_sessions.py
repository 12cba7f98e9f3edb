"""The viewer-session state machine, with examples and hypothesis properties."""

from hypothesis import given, settings
from hypothesis import strategies as st

from affectra_edge.emotions import EMOTIONS
from affectra_edge.sessions import Observation, SessionTracker, shares_from_votes

BOX = (100, 100, 80, 80)


def feed(tracker: SessionTracker, frames):
    """frames: list of (time, [(track_id, emotion_or_None, box)]). Returns ended records."""
    ended, started = [], []
    for when, faces in frames:
        update = tracker.observe([Observation(t, box, e) for t, e, box in faces], when)
        ended += update.ended
        started += update.started
    return started, ended


def test_a_viewer_becomes_a_session_and_ends_after_the_timeout():
    tracker = SessionTracker("cam", min_dwell_s=1.0, absence_timeout_s=2.0, min_frames=3)
    frames = [(1000 + i * 0.1, [(7, "happy" if i % 4 else "neutral", BOX)]) for i in range(50)]
    started, ended = feed(tracker, frames)
    assert len(started) == 1 and ended == []
    assert tracker.viewers_now == 1
    _, ended = feed(tracker, [(1004.9 + 2.05, [])])
    assert len(ended) == 1
    record = ended[0]
    assert record.camera_id == "cam" and record.frames == 50
    assert abs(record.duration_s - 4.9) < 1e-6
    assert record.started_at.timestamp() == 1000
    assert record.dominant_emotion == "happy"
    assert record.shares["neutral"] == 26.0 and record.shares["happy"] == 74.0
    assert tracker.viewers_now == 0


def test_too_small_or_too_brief_faces_never_become_sessions():
    tracker = SessionTracker("cam", min_dwell_s=1.0, absence_timeout_s=1.0, min_face_px=40)
    small = (0, 0, 30, 30)
    frames = [(i * 0.1, [(1, "sad", small)]) for i in range(100)]
    frames += [(10 + i * 0.1, [(2, "sad", BOX)]) for i in range(5)]  # 0.4 s: too brief
    frames += [(20.0, [])]
    started, ended = feed(tracker, frames)
    assert started == [] and ended == []


def test_a_viewer_never_classified_is_not_a_session():
    tracker = SessionTracker("cam", min_dwell_s=0.5, absence_timeout_s=1.0)
    started, ended = feed(tracker, [(i * 0.1, [(1, None, BOX)]) for i in range(30)] + [(9, [])])
    assert started == [] and ended == []


def test_close_all_writes_open_sessions_and_drops_candidates():
    tracker = SessionTracker("cam", min_dwell_s=1.0, absence_timeout_s=5.0)
    feed(tracker, [(i * 0.1, [(1, "fear", BOX), (2, "fear", BOX)] if i < 5 else [(1, "fear", BOX)])
                   for i in range(30)])
    records = tracker.close_all()
    assert [r.frames for r in records] == [30]
    assert tracker.viewers_now == 0


def test_shares_sum_exactly_to_100_with_awkward_counts():
    shares = shares_from_votes([1, 1, 1, 0, 0, 0, 0])
    assert sum(shares.values()) == 100.0
    assert sorted(shares.values())[-3:] == [33.33, 33.33, 33.34]


# -- properties ---------------------------------------------------------------------------

observation_times = st.lists(st.floats(min_value=0.01, max_value=3.0), min_size=1, max_size=60)
emotions = st.sampled_from((*EMOTIONS, None))


@settings(max_examples=200, deadline=None)
@given(gaps=observation_times, labels=st.lists(emotions, min_size=60, max_size=60),
       dwell=st.floats(0.0, 3.0), timeout=st.floats(0.2, 4.0))
def test_properties_of_every_recorded_session(gaps, labels, dwell, timeout):
    tracker = SessionTracker("cam", min_dwell_s=dwell, absence_timeout_s=timeout, min_frames=2)
    when, records = 0.0, []
    for gap, label in zip(gaps, labels):
        when += gap
        records += tracker.observe([Observation(1, BOX, label)], when).ended
    records += tracker.close_all()
    for record in records:
        assert abs(sum(record.shares.values()) - 100) <= 0.1
        assert record.duration_s >= 0
        assert record.duration_s >= dwell - 0.0005  # durations are kept to the millisecond
        assert record.frames >= 2
        assert record.shares[record.dominant_emotion] == max(record.shares.values())


@settings(max_examples=200, deadline=None)
@given(gaps=st.lists(st.floats(0.01, 0.99), min_size=2, max_size=80),
       timeout=st.floats(1.0, 5.0))
def test_a_gap_shorter_than_the_timeout_never_splits_a_session(gaps, timeout):
    tracker = SessionTracker("cam", min_dwell_s=0.0, absence_timeout_s=timeout, min_frames=1)
    when, records = 0.0, []
    for gap in gaps:
        when += gap
        records += tracker.observe([Observation(3, BOX, "happy")], when).ended
    records += tracker.close_all()
    assert len(records) == 1
    assert records[0].frames == len(gaps)


@settings(max_examples=100, deadline=None)
@given(when=st.floats(0, 1e9), dwell=st.floats(0.01, 10), frames_after=st.integers(0, 5))
def test_no_session_from_a_single_frame_blip(when, dwell, frames_after):
    tracker = SessionTracker("cam", min_dwell_s=dwell, absence_timeout_s=1.0, min_frames=2)
    update = tracker.observe([Observation(5, BOX, "surprise")], when)
    assert update.started == []
    later = tracker.observe([], when + 1.5 + frames_after)
    assert later.ended == [] and tracker.close_all() == []


def test_a_wall_clock_step_neither_splits_nor_stretches_a_session():
    """NTP may step the wall clock on a box without RTC; gaps are measured on the steady clock."""
    tracker = SessionTracker("cam", min_dwell_s=0.5, absence_timeout_s=1.0, min_frames=2)
    records = []
    for i in range(40):
        mono = 100 + i * 0.1
        wall = 1_700_000_000 + i * 0.1 + (3600 if i >= 20 else 0)  # an hour's step mid-way
        records += tracker.observe([Observation(1, BOX, "happy")], mono, wall).ended
    records += tracker.observe([], 104.0 + 1.5, 1_700_003_600 + 5.5).ended
    assert len(records) == 1
    assert abs(records[0].duration_s - 3.9) < 1e-6
    assert records[0].started_at.timestamp() == 1_700_000_000
