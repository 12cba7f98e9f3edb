"""Per frame: find faces, follow them, classify each followed face at a bounded rate."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from affectra_edge.emotions import EMOTIONS
from affectra_edge.sessions import Observation
from affectra_edge.vision.tracker import FaceTracker, Track


@dataclass(frozen=True)
class FaceResult:
    track_id: int
    box: tuple[int, int, int, int]
    score: float
    probabilities: tuple[float, ...] | None  # the track's latest classification
    classified_now: bool

    @property
    def top_emotion(self) -> str | None:
        if self.probabilities is None:
            return None
        return EMOTIONS[int(np.argmax(self.probabilities))]

    def observation(self) -> Observation:
        return Observation(self.track_id, self.box,
                           self.top_emotion if self.classified_now else None)

    def as_dict(self) -> dict:
        probs = None if self.probabilities is None else {
            e: round(float(p), 4) for e, p in zip(EMOTIONS, self.probabilities)}
        return {"track_id": self.track_id, "box": list(self.box), "score": round(self.score, 3),
                "top_emotion": self.top_emotion, "probabilities": probs}


@dataclass
class FrameAnalysis:
    timestamp: float
    faces: list[FaceResult]
    timings_ms: dict[str, float] = field(default_factory=dict)

    def observations(self) -> list[Observation]:
        return [f.observation() for f in self.faces]


class Analyzer:
    """Owns the detector, classifier and tracker of one camera.

    A track is (re)classified when it is new or its last classification is older than
    ``1 / classify_hz`` seconds; faces narrower than ``min_face_px`` are followed but never
    classified. At most ``max_faces`` faces, the largest first, are followed per frame.
    """

    def __init__(self, detector, classifier, tracker: FaceTracker | None = None,
                 classify_hz: float = 5.0, min_face_px: int = 40, max_faces: int = 10):
        self.detector = detector
        self.classifier = classifier
        self.tracker = tracker or FaceTracker()
        self.classify_interval_s = 1.0 / classify_hz
        self.min_face_px = min_face_px
        self.max_faces = max_faces

    def analyze(self, image: np.ndarray, when: float) -> FrameAnalysis:
        timings: dict[str, float] = {}
        start = time.perf_counter()
        detections = self.detector.detect(image)
        detections = sorted(detections, key=lambda d: d.w * d.h, reverse=True)[: self.max_faces]
        mark = time.perf_counter()
        timings["detect"] = (mark - start) * 1000
        tracks = self.tracker.update(detections, when)
        timings["track"] = (time.perf_counter() - mark) * 1000
        mark = time.perf_counter()
        due = [t for t in tracks if self._due(t, when)]
        if due:
            results = self.classifier.classify(image, [t.box for t in due])
            for track, probabilities in zip(due, results):
                track.probabilities = np.asarray(probabilities, dtype=np.float32)
                track.last_classified = when
        timings["classify"] = (time.perf_counter() - mark) * 1000
        faces = [self._result(t, t in due) for t in tracks]
        return FrameAnalysis(when, faces, timings)

    def _due(self, track: Track, when: float) -> bool:
        if min(track.box[2], track.box[3]) < self.min_face_px:
            return False
        return track.last_classified is None or (
            when - track.last_classified >= self.classify_interval_s - 1e-6)

    @staticmethod
    def _result(track: Track, classified_now: bool) -> FaceResult:
        probs = None if track.probabilities is None else tuple(
            float(p) for p in track.probabilities)
        return FaceResult(track.id, track.box, track.score, probs, classified_now)


def build_analyzer(vision, max_missed_s: float) -> Analyzer:
    """An analyzer from a :class:`~affectra_edge.config.VisionConfig`."""
    from affectra_edge.vision.classifier import make_classifier
    from affectra_edge.vision.detector import make_detector

    detector_args: dict = {"min_score": vision.min_detection_score}
    if vision.detector == "blazeface":
        detector_args["num_threads"] = vision.num_threads
    detector = make_detector(vision.detector, **detector_args)
    classifier = make_classifier(vision.classifier)
    tracker = FaceTracker(min_iou=vision.track_min_iou, max_missed_s=max_missed_s)
    return Analyzer(detector, classifier, tracker, vision.classify_hz, vision.min_face_px,
                    vision.max_faces)

