"""Compose scenes from real photographs: faces from packaged photos placed on a background.

The demo source, the tests and the benchmarks all use this, so they see real faces (crops,
flips and scalings of public-domain photos) without a camera. Nothing here is written to disk.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import cv2
import numpy as np

# Photo file -> (x, y, w, h) of a head-and-shoulders crop around its face, and the face box
# (x, y, w, h) inside the photo, measured once on the photo.
FACE_PHOTOS: dict[str, tuple[tuple[int, int, int, int], tuple[int, int, int, int]]] = {
    "astronaut.png": ((137, 26, 176, 180), (177, 66, 95, 95)),
}
BACKGROUND_PHOTO = "coffee.png"


def photo_path(name: str):
    """Path of a photo shipped in the package."""
    return resources.files("affectra_edge") / "photos" / name


def load_photo(name: str) -> np.ndarray:
    data = photo_path(name).read_bytes()
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"packaged photo {name} cannot be decoded")
    return image


@dataclass(frozen=True)
class FaceCrop:
    image: np.ndarray  # BGR crop around the face
    alpha: np.ndarray  # float32 0..1, feathered ellipse
    face: tuple[int, int, int, int]  # face box inside the crop


@lru_cache(maxsize=None)
def face_crop(name: str = "astronaut.png") -> FaceCrop:
    (cx, cy, cw, ch), (fx, fy, fw, fh) = FACE_PHOTOS[name]
    photo = load_photo(name)
    crop = photo[cy:cy + ch, cx:cx + cw].copy()
    alpha = np.zeros((ch, cw), np.float32)
    cv2.ellipse(alpha, (cw // 2, ch // 2), (int(cw * 0.46), int(ch * 0.48)), 0, 0, 360, 1.0, -1)
    alpha = cv2.GaussianBlur(alpha, (0, 0), sigmaX=max(2.0, cw / 30))
    return FaceCrop(crop, alpha, (fx - cx, fy - cy, fw, fh))


@lru_cache(maxsize=4)
def background(width: int, height: int) -> np.ndarray:
    photo = load_photo(BACKGROUND_PHOTO)
    return cv2.resize(photo, (width, height), interpolation=cv2.INTER_AREA)


@dataclass(frozen=True)
class Appearance:
    """One viewer in a scripted scene: where, how large, and when."""

    start_s: float
    end_s: float
    x: float  # face centre as a fraction of the frame width
    y: float  # ... and of its height
    face_px: int  # face width in pixels
    flip: bool = False
    drift_px: float = 12.0  # gentle side-to-side movement
    photo: str = "astronaut.png"

    def visible(self, t: float) -> bool:
        return self.start_s <= t < self.end_s


def face_box_at(app: Appearance, t: float, width: int, height: int) -> tuple[int, int, int, int]:
    """Where the face of ``app`` is at time ``t`` (x, y, w, h), unclipped."""
    crop = face_crop(app.photo)
    scale = app.face_px / crop.face[2]
    fw, fh = round(crop.face[2] * scale), round(crop.face[3] * scale)
    drift = app.drift_px * math.sin(2 * math.pi * (t - app.start_s) / 6.0)
    cx, cy = app.x * width + drift, app.y * height
    return round(cx - fw / 2), round(cy - fh / 2), fw, fh


def paste_face(canvas: np.ndarray, app: Appearance, t: float) -> None:
    height, width = canvas.shape[:2]
    crop = face_crop(app.photo)
    scale = app.face_px / crop.face[2]
    size = (max(1, round(crop.image.shape[1] * scale)), max(1, round(crop.image.shape[0] * scale)))
    image = cv2.resize(crop.image, size, interpolation=cv2.INTER_AREA)
    alpha = cv2.resize(crop.alpha, size, interpolation=cv2.INTER_LINEAR)
    fx, fy, _, _ = face_box_at(app, t, width, height)
    face_off = (round(crop.face[0] * scale), round(crop.face[1] * scale))
    if app.flip:
        image, alpha = image[:, ::-1], alpha[:, ::-1]
        face_off = (size[0] - face_off[0] - round(crop.face[2] * scale), face_off[1])
    x0, y0 = fx - face_off[0], fy - face_off[1]
    # Clip the pasted crop to the canvas.
    sx0, sy0 = max(0, -x0), max(0, -y0)
    dx0, dy0 = max(0, x0), max(0, y0)
    dx1, dy1 = min(width, x0 + size[0]), min(height, y0 + size[1])
    if dx1 <= dx0 or dy1 <= dy0:
        return
    src = image[sy0:sy0 + dy1 - dy0, sx0:sx0 + dx1 - dx0].astype(np.float32)
    a = alpha[sy0:sy0 + dy1 - dy0, sx0:sx0 + dx1 - dx0, None]
    region = canvas[dy0:dy1, dx0:dx1].astype(np.float32)
    canvas[dy0:dy1, dx0:dx1] = (src * a + region * (1 - a)).astype(np.uint8)


def render(appearances: Sequence[Appearance], t: float, width: int = 640,
           height: int = 480) -> np.ndarray:
    """The scene at time ``t``: the background with every viewer visible then."""
    canvas = background(width, height).copy()
    for app in appearances:
        if app.visible(t):
            paste_face(canvas, app, t)
    return canvas


def static_scene(face_count: int, width: int = 640, height: int = 480) -> np.ndarray:
    """A still frame with 0 to 3 faces, for benchmarks and tests."""
    spots = [Appearance(0, 1, 0.25, 0.45, 110), Appearance(0, 1, 0.55, 0.55, 120, flip=True),
             Appearance(0, 1, 0.82, 0.4, 100)]
    return render(spots[:face_count], 0.0, width, height)
