"""Emotion classifiers: mini-XCEPTION (default, LiteRT) and DeepFace (optional backend).

A classifier gets a BGR frame and face boxes, and returns for each box, in the same order,
a float32 vector of 7 probabilities in ``EMOTIONS`` order that sums to 1.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np

from affectra_edge.emotions import EMOTIONS
from affectra_edge.vision._litert import make_interpreter, read_model_bytes
from affectra_edge.vision.errors import ModelError

log = logging.getLogger(__name__)

MINI_XCEPTION_MODEL = "emotion_model_quantized.tflite"
MINI_XCEPTION_SIZE = 64
NUM_EMOTIONS = len(EMOTIONS)

Box = tuple[int, int, int, int]


class EmotionClassifier(Protocol):
    def classify(self, image_bgr: np.ndarray, boxes: Sequence[Box]) -> list[np.ndarray]: ...


def uniform_probabilities() -> np.ndarray:
    """What a box with no pixels gets: every emotion equally likely (no information)."""
    return np.full(NUM_EMOTIONS, 1.0 / NUM_EMOTIONS, dtype=np.float32)


def square_crop(image: np.ndarray, box: Box, margin: float) -> np.ndarray:
    """The square around a box's centre, side max(w, h) * (1 + 2 * margin), clipped to the image.

    Returns an empty array when nothing of it lies inside the image.
    """
    x, y, w, h = box
    height, width = image.shape[:2]
    side = max(w, h) * (1.0 + 2.0 * margin)
    centre_x, centre_y = x + w / 2.0, y + h / 2.0
    left = int(np.clip(round(centre_x - side / 2.0), 0, width))
    top = int(np.clip(round(centre_y - side / 2.0), 0, height))
    right = int(np.clip(round(centre_x + side / 2.0), 0, width))
    bottom = int(np.clip(round(centre_y + side / 2.0), 0, height))
    return image[top:bottom, left:right]


def as_probabilities(scores: np.ndarray) -> np.ndarray:
    """(N, 7) model outputs -> float32 rows that sum to 1.

    Rows that already are probabilities (non-negative, summing to 1 within 1e-3) are only
    renormalised; other rows are treated as logits and put through a softmax.
    """
    scores = scores.astype(np.float64)
    sums = scores.sum(axis=1, keepdims=True)
    is_prob = np.all(scores >= 0.0, axis=1, keepdims=True) & (np.abs(sums - 1.0) < 1e-3)
    exp = np.exp(scores - scores.max(axis=1, keepdims=True))
    softmax = exp / exp.sum(axis=1, keepdims=True)
    probs = np.where(is_prob, scores / np.where(sums > 0, sums, 1.0), softmax)
    return (probs / probs.sum(axis=1, keepdims=True)).astype(np.float32)


class MiniXceptionClassifier:
    """mini-XCEPTION trained on FER2013 (fer's quantised .tflite), run by LiteRT.

    Each box is widened to a square with ``margin`` (a fraction of the box side added on
    every side, default 0.1) and clipped to the image, then turned to 64x64 grayscale scaled
    to [-1, 1]. A box with no pixels inside the image gets the uniform vector (1/7 each), so
    the output always has one vector per box, in order. Faces are run as one batch when
    the model lets its input be resized, otherwise one by one. Not thread-safe (it holds a
    LiteRT interpreter): use one instance per thread.
    """

    def __init__(
        self, model_path: str | Path | None = None, margin: float = 0.1, num_threads: int = 1
    ) -> None:
        if not 0.0 <= margin <= 1.0:
            raise ValueError(f"margin must be in [0, 1], got {margin}")
        self.margin = margin
        self._model_bytes, self.model_name = read_model_bytes(model_path, MINI_XCEPTION_MODEL)
        self._interpreter = make_interpreter(self._model_bytes, self.model_name, num_threads)
        self._input_index, self._output_index = self._check_tensors()
        self._batch_size = 1
        self._can_batch = True

    def _check_tensors(self) -> tuple[int, int]:
        inputs = self._interpreter.get_input_details()
        outputs = self._interpreter.get_output_details()
        size = MINI_XCEPTION_SIZE
        if (
            len(inputs) != 1
            or len(outputs) != 1
            or tuple(inputs[0]["shape"]) != (1, size, size, 1)
            or inputs[0]["dtype"] != np.float32
            or tuple(outputs[0]["shape"]) != (1, NUM_EMOTIONS)
            or outputs[0]["dtype"] != np.float32
        ):
            got = [([int(v) for v in d["shape"]], d["dtype"].__name__) for d in inputs + outputs]
            raise ModelError(
                f"{self.model_name} is not a 7-class {size}x{size} grayscale emotion model "
                f"(expected float32 input 1x{size}x{size}x1 and output 1x{NUM_EMOTIONS}; got {got})"
            )
        return int(inputs[0]["index"]), int(outputs[0]["index"])

    def preprocess(self, image_bgr: np.ndarray, box: Box) -> np.ndarray | None:
        """One face as a (64, 64, 1) float32 tensor in [-1, 1], or None if the box is empty."""
        crop = square_crop(image_bgr, box, self.margin)
        if crop.size == 0:
            return None
        gray = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
        size = (MINI_XCEPTION_SIZE, MINI_XCEPTION_SIZE)
        shrinking = gray.shape[0] > size[1] or gray.shape[1] > size[0]
        face = cv2.resize(
            gray, size, interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
        )
        return (face.astype(np.float32) * (2.0 / 255.0) - 1.0)[:, :, np.newaxis]

    def classify(self, image_bgr: np.ndarray, boxes: Sequence[Box]) -> list[np.ndarray]:
        results: list[np.ndarray] = [uniform_probabilities() for _ in boxes]
        faces, slots = [], []
        for slot, box in enumerate(boxes):
            face = self.preprocess(image_bgr, box)
            if face is not None:
                faces.append(face)
                slots.append(slot)
        if faces:
            probs = as_probabilities(self._run(np.stack(faces)))
            for slot, row in zip(slots, probs, strict=True):
                results[slot] = row
        return results

    def _run(self, batch: np.ndarray) -> np.ndarray:
        if self._can_batch and len(batch) > 1:
            try:
                self._resize(len(batch))
                return self._invoke(batch)
            except (ValueError, RuntimeError) as exc:
                log.info(
                    "%s cannot run batches (%s); running faces one by one", self.model_name, exc
                )
                self._can_batch = False
        self._resize(1)
        return np.concatenate([self._invoke(face[np.newaxis]) for face in batch])

    def _resize(self, batch_size: int) -> None:
        if batch_size != self._batch_size:
            shape = [batch_size, MINI_XCEPTION_SIZE, MINI_XCEPTION_SIZE, 1]
            self._batch_size = -1  # unknown until allocation succeeds
            self._interpreter.resize_tensor_input(self._input_index, shape)
            self._interpreter.allocate_tensors()
            self._batch_size = batch_size

    def _invoke(self, batch: np.ndarray) -> np.ndarray:
        self._interpreter.set_tensor(self._input_index, batch)
        self._interpreter.invoke()
        return np.array(self._interpreter.get_tensor(self._output_index))


def make_classifier(name: str, **kwargs: Any) -> EmotionClassifier:
    """Build a classifier by name ("mini_xception" or "deepface"); kwargs go to its constructor.

    The DeepFace backend is imported only when asked for.
    """
    if name == "mini_xception":
        return MiniXceptionClassifier(**kwargs)
    if name == "deepface":
        from affectra_edge.vision.deepface_backend import DeepFaceClassifier

        return DeepFaceClassifier(**kwargs)
    raise ValueError(f"unknown emotion classifier {name!r}; choose one of: deepface, mini_xception")
