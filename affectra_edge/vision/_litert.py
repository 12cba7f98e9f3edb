"""Loading the packaged LiteRT models, with errors that name the file.

Shared by the detector and the classifier. The models are read as bytes through
``importlib.resources`` so that they are found however the package is installed.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.resources
import logging
import os
from pathlib import Path
from typing import Any

from affectra_edge.vision.errors import ModelError

log = logging.getLogger(__name__)

MODELS_PACKAGE = "affectra_edge.vision"
MODELS_DIR = "models"

# sha256 of the packaged models (scripts/fetch_models.py pins the same values): a packaged
# file that does not match was damaged after installation and is refused.
PACKAGED_SHA256 = {
    "face_detection_short_range.tflite": (
        "bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8"
    ),
    "emotion_model_quantized.tflite": (
        "65e3961bb68f497bd02a8d075da8409364db90004edb80c0c6cb15647c4de559"
    ),
}


def packaged_model(name: str) -> Any:
    """Return the importlib.resources Traversable of a model shipped in ``models/``."""
    return importlib.resources.files(MODELS_PACKAGE) / MODELS_DIR / name


def read_model_bytes(model_path: str | Path | None, default_name: str) -> tuple[bytes, str]:
    """Read a model file (the packaged ``default_name`` when ``model_path`` is None).

    Returns the bytes and a printable name of the file for messages. A packaged model is
    also checked against its pinned sha256; a file given by path is taken as it is.
    """
    source: Any = packaged_model(default_name) if model_path is None else Path(model_path)
    label = str(source)
    try:
        data = source.read_bytes()
    except FileNotFoundError as exc:
        raise ModelError(f"model file not found: {label}") from exc
    except OSError as exc:
        raise ModelError(f"cannot read model file {label}: {exc}") from exc
    if not data:
        raise ModelError(f"model file is empty: {label}")
    expected = PACKAGED_SHA256.get(default_name) if model_path is None else None
    if expected is not None and hashlib.sha256(data).hexdigest() != expected:
        raise ModelError(f"packaged model file is damaged (sha256 mismatch): {label}")
    return data, label


def make_interpreter(model_bytes: bytes, label: str, num_threads: int) -> Any:
    """Build and allocate a LiteRT interpreter; any failure becomes a ModelError."""
    if num_threads < 1:
        raise ValueError(f"num_threads must be >= 1, got {num_threads}")
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise ModelError("the LiteRT runtime is missing: pip install ai-edge-litert") from exc
    if model_bytes[4:8] != b"TFL3":
        # LiteRT's own verifier catches this too, but its message does not name the file.
        raise ModelError(f"not a TFLite/LiteRT model (bad file identifier): {label}")
    try:
        with _runtime_banner_hidden():
            interpreter = Interpreter(model_content=model_bytes, num_threads=num_threads)
            interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as exc:
        reason = str(exc).strip() or type(exc).__name__
        raise ModelError(f"corrupt or unsupported model file {label}: {reason}") from exc
    log.debug("loaded %s (%d bytes, %d threads)", label, len(model_bytes), num_threads)
    return interpreter


@contextlib.contextmanager
def _runtime_banner_hidden():
    """Hide the runtime's own stderr banner ("Created TensorFlow Lite XNNPACK delegate").

    It bypasses Python logging and would land in the journal on every start. Models load
    before any worker thread starts, so nothing else is writing to stderr meanwhile; errors
    still surface as the exception handled by the caller.
    """
    try:
        saved = os.dup(2)
    except OSError:  # no stderr at all: nothing to hide
        yield
        return
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
