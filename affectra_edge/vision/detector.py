"""Face detectors: BlazeFace short-range (default, LiteRT) and OpenCV Haar (fallback).

Both take a BGR frame (as OpenCV gives it) and return pixel boxes clipped to the frame.

BlazeFace short-range is MediaPipe's detector for faces near the camera ("within about
2 m"): it sees the whole frame shrunk to 128x128, so a face must fill a decent part of the
frame. Measured by pasting the astronaut's face at random places into 640x480 photos (see
models/README.md): faces 80 px wide and larger (1/8 of the frame width, 16 px in the model
input) are found every time; at 70-78 px about half to nine in ten, at 66-68 px about a
quarter, at 60 px and below almost none. For smaller faces, run it on crops (tiles) of the
frame, or use the Haar detector (in the same test it found faces from 40 px up at full
resolution, frontal only, and it is 40-90 times slower).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np

from affectra_edge.vision import blazeface
from affectra_edge.vision._litert import make_interpreter, read_model_bytes
from affectra_edge.vision.errors import ModelError

log = logging.getLogger(__name__)

BLAZEFACE_MODEL = "face_detection_short_range.tflite"
HAAR_CASCADE = "haarcascade_frontalface_default.xml"


@dataclass(frozen=True)
class Detection:
    """One face: a pixel box in the input image, clipped to it, and a confidence in [0, 1]."""

    x: int
    y: int
    w: int
    h: int
    score: float

    @property
    def box(self) -> tuple[int, int, int, int]:
        return (self.x, self.y, self.w, self.h)


class FaceDetector(Protocol):
    def detect(self, image_bgr: np.ndarray) -> list[Detection]: ...


def clip_box(
    x1: float, y1: float, x2: float, y2: float, width: int, height: int, score: float
) -> Detection | None:
    """Round an x1, y1, x2, y2 box to pixels inside a width x height image; None if empty."""
    left = int(np.clip(round(x1), 0, width))
    top = int(np.clip(round(y1), 0, height))
    right = int(np.clip(round(x2), 0, width))
    bottom = int(np.clip(round(y2), 0, height))
    if right - left < 1 or bottom - top < 1:
        return None
    return Detection(left, top, right - left, bottom - top, float(score))


def _check_frame(image_bgr: np.ndarray) -> None:
    if image_bgr.ndim != 3 or image_bgr.shape[2] != 3 or image_bgr.dtype != np.uint8:
        raise ValueError(
            f"expected a BGR uint8 image of shape (h, w, 3), "
            f"got {image_bgr.dtype} {image_bgr.shape}"
        )


class BlazeFaceDetector:
    """MediaPipe BlazeFace short-range run by LiteRT, decoded here (anchors, sigmoid, NMS).

    Like the LiteRT interpreter it holds, an instance is not thread-safe: use one per thread.
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        min_score: float = 0.5,
        num_threads: int = 1,
        iou_threshold: float = 0.3,
    ) -> None:
        if not 0.0 <= min_score <= 1.0:
            raise ValueError(f"min_score must be in [0, 1], got {min_score}")
        self.min_score = min_score
        self.iou_threshold = iou_threshold
        self._model_bytes, self.model_name = read_model_bytes(model_path, BLAZEFACE_MODEL)
        self._interpreter = make_interpreter(self._model_bytes, self.model_name, num_threads)
        self._input_index, self._regressors_index, self._logits_index = self._check_tensors()
        self._anchors = blazeface.ssd_anchors()

    def _check_tensors(self) -> tuple[int, int, int]:
        """Find the input and the two outputs by shape; refuse a model of another shape."""
        inputs = self._interpreter.get_input_details()
        outputs = {tuple(d["shape"]): d for d in self._interpreter.get_output_details()}
        size = blazeface.INPUT_SIZE
        regressors = outputs.get((1, blazeface.NUM_ANCHORS, blazeface.NUM_REGRESSORS))
        logits = outputs.get((1, blazeface.NUM_ANCHORS, 1))
        if (
            len(inputs) != 1
            or tuple(inputs[0]["shape"]) != (1, size, size, 3)
            or inputs[0]["dtype"] != np.float32
            or regressors is None
            or logits is None
        ):
            shapes = [[int(v) for v in d["shape"]] for d in inputs]
            shapes += [[int(v) for v in shape] for shape in outputs]
            raise ModelError(
                f"{self.model_name} is not a BlazeFace short-range model "
                f"(expected float32 input 1x{size}x{size}x3 and outputs 1x896x16, 1x896x1; "
                f"got {shapes})"
            )
        return int(inputs[0]["index"]), int(regressors["index"]), int(logits["index"])

    def detect(self, image_bgr: np.ndarray) -> list[Detection]:
        _check_frame(image_bgr)
        height, width = image_bgr.shape[:2]
        tensor, letterbox = blazeface.letterbox_input(image_bgr)
        self._interpreter.set_tensor(self._input_index, tensor)
        self._interpreter.invoke()
        regressors = self._interpreter.get_tensor(self._regressors_index)[0]
        scores = blazeface.scores_from_logits(
            self._interpreter.get_tensor(self._logits_index)[0, :, 0]
        )
        keep = scores >= self.min_score
        if not keep.any():
            return []
        boxes = blazeface.decode_boxes(regressors[keep], self._anchors[keep])
        merged = blazeface.weighted_nms(boxes, scores[keep], self.iou_threshold)
        frame_boxes = letterbox.to_frame(np.array([box for box, _ in merged]))
        detections = []
        for (x1, y1, x2, y2), (_, score) in zip(frame_boxes, merged, strict=True):
            detection = clip_box(x1, y1, x2, y2, width, height, score)
            if detection is not None:
                detections.append(detection)
        return detections


def default_cascade_path() -> str:
    """OpenCV's own frontal-face cascade, shipped in opencv-python(-headless) 4.x."""
    cascades = getattr(getattr(cv2, "data", None), "haarcascades", None)
    if cascades is None or not hasattr(cv2, "CascadeClassifier"):
        raise ModelError(
            f"this OpenCV ({cv2.__version__}) has no Haar cascades ({HAAR_CASCADE}); "
            "the haar detector needs opencv-python-headless>=4.8,<5"
        )
    return str(Path(cascades) / HAAR_CASCADE)


class HaarDetector:
    """OpenCV's frontal-face Haar cascade; finds frontal faces only. Score is always 1.0.

    ``scale`` < 1 runs the cascade on a downscaled frame (0.5: a 640x480 frame is searched at
    320x240, about twice as fast, and faces under about 60 px are lost); boxes are mapped back
    to the full frame. ``min_size_px`` is the smallest face searched for, in full-frame
    pixels. ``min_score`` is accepted so that both detectors take the same settings; as every
    Haar detection scores 1.0, it filters nothing.
    """

    def __init__(
        self,
        scale: float = 0.5,
        min_neighbors: int = 5,
        scale_factor: float = 1.1,
        min_size_px: int = 40,
        cascade_path: str | Path | None = None,
        min_score: float = 0.5,
    ) -> None:
        if not 0.0 <= min_score <= 1.0:
            raise ValueError(f"min_score must be in [0, 1], got {min_score}")
        if not 0.0 < scale <= 1.0:
            raise ValueError(f"scale must be in (0, 1], got {scale}")
        self.scale = scale
        self.min_neighbors = min_neighbors
        self.scale_factor = scale_factor
        self.min_size_px = min_size_px
        path = str(cascade_path) if cascade_path is not None else default_cascade_path()
        if not Path(path).is_file():
            raise ModelError(f"Haar cascade file not found: {path}")
        self._cascade: Any = cv2.CascadeClassifier(path)
        if self._cascade.empty():
            raise ModelError(f"corrupt or unsupported Haar cascade file: {path}")

    def detect(self, image_bgr: np.ndarray) -> list[Detection]:
        _check_frame(image_bgr)
        height, width = image_bgr.shape[:2]
        gray = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY)
        if self.scale != 1.0:
            gray = cv2.resize(
                gray, None, fx=self.scale, fy=self.scale, interpolation=cv2.INTER_AREA
            )
        min_side = max(1, round(self.min_size_px * self.scale))
        found = self._cascade.detectMultiScale(
            gray,
            scaleFactor=self.scale_factor,
            minNeighbors=self.min_neighbors,
            minSize=(min_side, min_side),
        )
        detections = []
        for x, y, w, h in np.asarray(found).reshape(-1, 4):
            x1, y1 = x / self.scale, y / self.scale
            x2, y2 = (x + w) / self.scale, (y + h) / self.scale
            detection = clip_box(x1, y1, x2, y2, width, height, 1.0)
            if detection is not None:
                detections.append(detection)
        return detections


_DETECTORS: dict[str, type] = {"blazeface": BlazeFaceDetector, "haar": HaarDetector}


def make_detector(name: str, **kwargs: Any) -> FaceDetector:
    """Build a detector by name ("blazeface" or "haar"); kwargs go to its constructor."""
    try:
        factory = _DETECTORS[name]
    except KeyError:
        known = ", ".join(sorted(_DETECTORS))
        raise ValueError(f"unknown face detector {name!r}; choose one of: {known}") from None
    detector: FaceDetector = factory(**kwargs)
    return detector
