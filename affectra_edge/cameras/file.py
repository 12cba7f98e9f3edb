"""A video file or a folder of images, read with OpenCV."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from affectra_edge.cameras.base import FrameSource, SourceError, SourceInfo

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


class FileSource(FrameSource):
    """Plays a video file, or the images of a folder in name order, at ``fps``.

    With ``loop`` the source starts again at the end; without, ``read()`` returns None there.
    A corrupt image in a folder is skipped (and counted in ``skipped``).
    """

    live = False

    def __init__(self, path: str | Path, loop: bool = True, fps: float | None = None):
        self.path = Path(path)
        self.loop = loop
        self._fps = fps
        self._capture: cv2.VideoCapture | None = None
        self._images: list[Path] = []
        self._next_image = 0
        self._info = SourceInfo(0, 0, fps or 0.0)
        self.skipped = 0

    def open(self) -> None:
        if not self.path.exists():
            raise SourceError(f"{self.path}: no such file or folder")
        if self.path.is_dir():
            self._images = sorted(p for p in self.path.iterdir()
                                  if p.suffix.lower() in IMAGE_SUFFIXES)
            if not self._images:
                raise SourceError(f"{self.path}: folder holds no images "
                                  f"({', '.join(sorted(IMAGE_SUFFIXES))})")
            self._next_image = 0
            self._info = SourceInfo(0, 0, self._fps or 5.0)
            return
        capture = cv2.VideoCapture(str(self.path))
        if not capture.isOpened():
            capture.release()
            raise SourceError(f"{self.path}: cannot open as a video (unreadable or not a video)")
        fps = self._fps or capture.get(cv2.CAP_PROP_FPS) or 15.0
        self._info = SourceInfo(int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
                                int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
                                fps if 0 < fps <= 240 else 15.0)
        self._capture = capture

    def read(self) -> np.ndarray | None:
        if self._images:
            return self._read_image()
        if self._capture is None:
            raise SourceError(f"{self.path}: read before open")
        ok, frame = self._capture.read()
        if not ok and self.loop:
            self._capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, frame = self._capture.read()
        return frame if ok else None

    def _read_image(self) -> np.ndarray | None:
        for _ in range(len(self._images)):
            if self._next_image >= len(self._images):
                if not self.loop:
                    return None
                self._next_image = 0
            path = self._images[self._next_image]
            self._next_image += 1
            frame = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if frame is not None:
                return frame
            self.skipped += 1
        raise SourceError(f"{self.path}: no image in the folder can be decoded")

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None

    def info(self) -> SourceInfo:
        return self._info

    def describe(self) -> str:
        kind = "image folder" if self.path.is_dir() else "video file"
        return f"{kind} {self.path}"
