"""Draw what the analyzer found on a copy of the frame, for the live view (memory only)."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from affectra_edge.vision.analyzer import FaceResult

_COLOURS = {  # BGR, one per emotion; unknown (not yet classified) is grey
    "angry": (40, 40, 220), "disgust": (40, 140, 40), "fear": (160, 60, 160),
    "happy": (40, 200, 240), "sad": (200, 120, 40), "surprise": (40, 160, 255),
    "neutral": (200, 200, 200), None: (150, 150, 150),
}


def annotate(image: np.ndarray, faces: Sequence[FaceResult]) -> np.ndarray:
    """A copy of ``image`` with each face's box, track id, top emotion and its share."""
    canvas = image.copy()
    for face in faces:
        x, y, w, h = face.box
        colour = _COLOURS.get(face.top_emotion, _COLOURS[None])
        cv2.rectangle(canvas, (x, y), (x + w, y + h), colour, 2)
        label = f"#{face.track_id}"
        if face.probabilities is not None and face.top_emotion is not None:
            label += f" {face.top_emotion} {max(face.probabilities) * 100:.0f}%"
        (tw, th), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.5, 1)
        top = max(0, y - th - base - 4)
        cv2.rectangle(canvas, (x, top), (x + tw + 6, top + th + base + 4), colour, -1)
        cv2.putText(canvas, label, (x + 3, top + th + 2), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                    (20, 20, 20), 1, cv2.LINE_AA)
    return canvas


def encode_jpeg(image: np.ndarray, quality: int = 80) -> bytes:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("the frame cannot be encoded as JPEG")
    return data.tobytes()
