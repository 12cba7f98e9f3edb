"""Optional emotion backend: DeepFace's emotion model (``pip install .[deepface]``).

Imported only when the "deepface" classifier is selected. It never lets DeepFace download
anything: DeepFace fetches its weights from the internet the first time a model is built,
unless the file is already in ``$DEEPFACE_HOME/.deepface/weights/`` (``DEEPFACE_HOME``
defaults to the user's home directory, as in deepface's ``folder_utils.get_deepface_home``).
So the weights file is checked before anything is built, and a missing one is a ModelError.

deepface 0.0.103 runs on one of three engines, chosen by deepface itself: the one named by
``DEEPFACE_BACKEND_ENGINE``, else TensorFlow if installed, else PyTorch, else onnxruntime
(which deepface installs by default). Each engine has its own weights file, see
``WEIGHTS_FILES``. The model sees 48x48 grayscale faces; we give it our detector's boxes,
not DeepFace's own detector.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from affectra_edge.emotions import EMOTIONS
from affectra_edge.vision.classifier import (
    Box,
    as_probabilities,
    square_crop,
    uniform_probabilities,
)
from affectra_edge.vision.errors import ModelError

log = logging.getLogger(__name__)

WEIGHTS_FILES = {
    "tensorflow": "facial_expression_model_weights.h5",
    "pytorch": "facial_expression_model_weights.pth",
    "onnx": "facial_expression_model_weights.onnx",
}
INSTALL_HINT = "pip install 'affectra-edge[deepface]' (deepface 0.0.103)"
# deepface.analyze letterboxes each face into 224x224 before its emotion model shrinks it
# to 48x48 grayscale; we do the same so that faces look to the model as they do there.
DEEPFACE_FACE_SIZE = (224, 224)


def deepface_home(environ: dict[str, str] | None = None) -> Path:
    """Where deepface keeps ``.deepface/weights``: $DEEPFACE_HOME, else the home directory."""
    env = os.environ if environ is None else environ
    return Path(env.get("DEEPFACE_HOME", os.path.expanduser("~")))


def weights_path(engine: str, home: Path | None = None) -> Path:
    """The weights file deepface's emotion model needs on ``engine``."""
    try:
        file_name = WEIGHTS_FILES[engine]
    except KeyError:
        raise ModelError(f"deepface engine {engine!r} is not supported here") from None
    return (home if home is not None else deepface_home()) / ".deepface" / "weights" / file_name


def check_weights(engine: str, home: Path | None = None) -> Path:
    """Return the weights file, or raise ModelError saying which file to put where."""
    path = weights_path(engine, home)
    if not path.is_file() or path.stat().st_size == 0:
        raise ModelError(
            f"DeepFace emotion weights not found: put {path.name} (deepface's emotion model "
            f"for the {engine} engine) at {path}, or set DEEPFACE_HOME to the directory that "
            f"holds .deepface/weights/{path.name}; Affectra never downloads it"
        )
    return path


def deepface_engine() -> str:
    """The engine deepface will run on, found without importing any framework."""
    try:
        backend_utils = importlib.import_module("deepface.commons.backend_utils")
    except ImportError as exc:
        raise ModelError(
            f"the deepface backend needs the deepface package: {INSTALL_HINT}"
        ) from exc
    try:
        engine: str = backend_utils.get_backend_engine()
    except ValueError as exc:
        raise ModelError(f"deepface has no usable engine ({exc}); {INSTALL_HINT}") from exc
    return engine


def label_order(deepface_labels: Sequence[str]) -> np.ndarray:
    """Indices that reorder deepface's output columns into EMOTIONS order."""
    labels = [label.lower() for label in deepface_labels]
    if sorted(labels) != sorted(EMOTIONS):
        raise ModelError(
            f"deepface's emotion labels {list(deepface_labels)} differ from {EMOTIONS}"
        )
    return np.array([labels.index(emotion) for emotion in EMOTIONS])


class DeepFaceClassifier:
    """DeepFace's emotion CNN on our boxes; same contract as MiniXceptionClassifier."""

    def __init__(self, margin: float = 0.1) -> None:
        self.margin = margin
        self.engine = deepface_engine()
        self.weights = check_weights(self.engine)  # before anything could download
        try:
            utils = importlib.import_module("deepface.models.demography.DemographyUtils")
            preprocessing = importlib.import_module("deepface.modules.preprocessing")
            # deepface.modules.modeling, not deepface.DeepFace: the latter also imports
            # werkzeug, which deepface 0.0.103 does not declare as a dependency
            modeling: Any = importlib.import_module("deepface.modules.modeling")
            self._model = modeling.build_model(task="facial_attribute", model_name="Emotion")
        except Exception as exc:  # deepface raises ValueError, ImportError, OSError, ...
            raise ModelError(
                f"cannot build deepface's emotion model from {self.weights} "
                f"on the {self.engine} engine: {exc}"
            ) from exc
        self._resize_image = preprocessing.resize_image
        self._order = label_order(utils.EMOTION_LABELS)
        log.info("deepface emotion model on %s, weights %s", self.engine, self.weights)

    def classify(self, image_bgr: np.ndarray, boxes: Sequence[Box]) -> list[np.ndarray]:
        results = [uniform_probabilities() for _ in boxes]
        faces, slots = [], []
        for slot, box in enumerate(boxes):
            crop = square_crop(image_bgr, box, self.margin)
            if crop.size == 0:
                continue
            face = crop.astype(np.float32) / 255.0  # deepface's faces are BGR in [0, 1]
            faces.append(self._resize_image(face, DEEPFACE_FACE_SIZE)[0])
            slots.append(slot)
        if faces:
            raw = np.asarray(self._model.predict(np.stack(faces)), dtype=np.float64)
            probs = as_probabilities(raw.reshape(len(faces), -1)[:, self._order])
            for slot, row in zip(slots, probs, strict=True):
                results[slot] = row
        return results
