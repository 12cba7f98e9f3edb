from dataclasses import dataclass

from affectra_edge.vision.tracker import FaceTracker, iou


@dataclass
class Det:
    box: tuple
    score: float = 0.9


def test_iou():
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (20, 20, 5, 5)) == 0.0
    assert abs(iou((0, 0, 10, 10), (5, 0, 10, 10)) - 50 / 150) < 1e-9


def test_ids_stay_stable_while_faces_move():
    tracker = FaceTracker(max_missed_s=1.0)
    ids = set()
    for step in range(40):
        tracks = tracker.update([Det((100 + 3 * step, 100, 80, 80)),
                                 Det((400 - 2 * step, 150, 60, 60))], step * 0.05)
        ids.add((tracks[0].id, tracks[1].id))
    assert ids == {(1, 2)}


def test_a_fast_jump_is_still_matched_by_centre_distance():
    tracker = FaceTracker(min_iou=0.3, max_center_distance=0.75)
    first = tracker.update([Det((100, 100, 80, 80))], 0.0)[0]
    moved = tracker.update([Det((150, 110, 80, 80))], 0.1)[0]  # IoU ~0.2, centre 0.64 sizes away
    assert moved.id == first.id


def test_missed_detections_are_tolerated_then_the_track_expires():
    tracker = FaceTracker(max_missed_s=0.5)
    first = tracker.update([Det((100, 100, 80, 80))], 0.0)[0]
    for t in (0.1, 0.2, 0.3):  # three frames without the face
        assert tracker.update([], t) == []
    again = tracker.update([Det((104, 100, 80, 80))], 0.4)[0]
    assert again.id == first.id and again.hits == 2
    tracker.update([], 1.0)
    assert tracker.tracks == []
    assert tracker.update([Det((104, 100, 80, 80))], 1.1)[0].id != first.id


def test_two_close_faces_keep_their_own_ids():
    tracker = FaceTracker()
    a, b = tracker.update([Det((100, 100, 80, 80)), Det((190, 100, 80, 80))], 0.0)
    b2, a2 = tracker.update([Det((192, 101, 80, 80)), Det((98, 100, 80, 80))], 0.1)
    assert (a2.id, b2.id) == (a.id, b.id)


def test_a_face_at_the_same_spot_after_a_long_gap_is_someone_new():
    """No update arrives during the gap (camera offline): the old track must still expire."""
    tracker = FaceTracker(max_missed_s=2.0)
    old = tracker.update([Det((100, 100, 80, 80))], 0.0)[0]
    new = tracker.update([Det((100, 100, 80, 80))], 60.0)[0]
    assert new.id != old.id and new.hits == 1 and new.first_seen == 60.0
