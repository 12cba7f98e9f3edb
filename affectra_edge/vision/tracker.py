"""Follow faces across frames so each keeps one id.

Detections are matched to tracks greedily, best overlap (IoU) first; what is left is matched
by centre distance relative to the face size, which catches fast movement between frames. A
track that misses detections is kept for ``max_missed_s`` seconds, so a face lost for a few
frames comes back under the same id. Unmatched detections start new tracks.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

Box = tuple[int, int, int, int]


@dataclass
class Track:
    id: int
    box: Box
    score: float
    first_seen: float
    last_seen: float
    hits: int = 1
    # Classification state, kept here so it follows the face.
    probabilities: np.ndarray | None = field(default=None, repr=False)
    last_classified: float | None = None

    @property
    def top_emotion_index(self) -> int | None:
        return None if self.probabilities is None else int(np.argmax(self.probabilities))


def iou(a: Box, b: Box) -> float:
    ax2, ay2, bx2, by2 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    iw = min(ax2, bx2) - max(a[0], b[0])
    ih = min(ay2, by2) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    return inter / float(a[2] * a[3] + b[2] * b[3] - inter)


def center_distance(a: Box, b: Box) -> float:
    """Distance between centres, in units of the first box's size."""
    dx = (a[0] + a[2] / 2) - (b[0] + b[2] / 2)
    dy = (a[1] + a[3] / 2) - (b[1] + b[3] / 2)
    return float(np.hypot(dx, dy) / max(1.0, np.sqrt(a[2] * a[3])))


class FaceTracker:
    def __init__(self, min_iou: float = 0.2, max_center_distance: float = 0.75,
                 max_missed_s: float = 2.0):
        self.min_iou = min_iou
        self.max_center_distance = max_center_distance
        self.max_missed_s = max_missed_s
        self._tracks: dict[int, Track] = {}
        self._ids = itertools.count(1)

    @property
    def tracks(self) -> list[Track]:
        return list(self._tracks.values())

    def update(self, detections: Sequence, when: float) -> list[Track]:
        """Match this frame's detections (objects with ``box`` and ``score``).

        Returns the tracks seen in this frame, in the order of ``detections``.
        """
        # Expire first: a face at the same spot after a long gap is someone new.
        for track_id in [t.id for t in self._tracks.values()
                         if when - t.last_seen > self.max_missed_s]:
            del self._tracks[track_id]
        boxes = [tuple(int(v) for v in d.box) for d in detections]
        assigned = self._match(boxes)
        seen: list[Track] = []
        for index, detection in enumerate(detections):
            track = assigned.get(index)
            if track is None:
                track = Track(id=next(self._ids), box=boxes[index], score=float(detection.score),
                              first_seen=when, last_seen=when)
                self._tracks[track.id] = track
            else:
                track.box, track.score = boxes[index], float(detection.score)
                track.last_seen, track.hits = when, track.hits + 1
            seen.append(track)
        return seen

    def _match(self, boxes: list[Box]) -> dict[int, Track]:
        tracks = list(self._tracks.values())
        free_tracks = set(range(len(tracks)))
        free_boxes = set(range(len(boxes)))
        assigned: dict[int, Track] = {}
        pairs = [(iou(tracks[t].box, boxes[d]), t, d)
                 for t in range(len(tracks)) for d in range(len(boxes))]
        for score, t, d in sorted(pairs, reverse=True):
            if score <= 0 or score < self.min_iou:
                break
            if t in free_tracks and d in free_boxes:
                assigned[d] = tracks[t]
                free_tracks.discard(t)
                free_boxes.discard(d)
        near = [(center_distance(tracks[t].box, boxes[d]), t, d)
                for t in free_tracks for d in free_boxes]
        for distance, t, d in sorted(near):
            if distance > self.max_center_distance:
                break
            if t in free_tracks and d in free_boxes:
                assigned[d] = tracks[t]
                free_tracks.discard(t)
                free_boxes.discard(d)
        return assigned
