"""BlazeFace short-range: anchors, letterbox, box decoding and non-maximum suppression.

Pure numpy/OpenCV helpers, no model I/O; ``detector.BlazeFaceDetector`` drives them.

The model (MediaPipe ``face_detection_short_range.tflite``) takes a 128x128 RGB image in
[-1, 1] and returns, for each of 896 SSD anchors, 16 regressors (box centre offset x, y,
box w, h, then six key points as x, y pairs, all in input pixels) and one logit. The anchors
follow MediaPipe's short-range configuration: strides 8, 16, 16, 16, two anchors per cell
for each layer, layers with the same stride sharing one grid, anchor centres at cell
centres, and a fixed anchor size (w = h = 1 in normalised units), so that
16x16x2 + 8x8x6 = 896.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

INPUT_SIZE = 128
NUM_ANCHORS = 896
NUM_REGRESSORS = 16
STRIDES = (8, 16, 16, 16)
ANCHORS_PER_LAYER = 2
COORD_SCALE = 128.0  # x_scale = y_scale = w_scale = h_scale in MediaPipe's decoder options
SCORE_CLIP = 100.0  # logits are clipped to +-100 before the sigmoid, as MediaPipe does


def ssd_anchors() -> np.ndarray:
    """Anchor centres as a (896, 2) float32 array of normalised (x, y)."""
    centres: list[tuple[float, float]] = []
    layer = 0
    while layer < len(STRIDES):
        stride = STRIDES[layer]
        per_cell = 0
        # consecutive layers with the same stride share one grid
        while layer < len(STRIDES) and STRIDES[layer] == stride:
            per_cell += ANCHORS_PER_LAYER
            layer += 1
        cells = INPUT_SIZE // stride
        for row in range(cells):
            for col in range(cells):
                centre = ((col + 0.5) / cells, (row + 0.5) / cells)
                centres.extend([centre] * per_cell)
    anchors = np.asarray(centres, dtype=np.float32)
    assert anchors.shape == (NUM_ANCHORS, 2), anchors.shape
    return anchors


@dataclass(frozen=True)
class Letterbox:
    """How a frame was fitted into the square model input: scale, then centred padding."""

    scale_x: float
    scale_y: float
    pad_x: int
    pad_y: int

    def to_frame(self, boxes_px: np.ndarray) -> np.ndarray:
        """Map (N, 4) x1, y1, x2, y2 boxes from model-input pixels back to frame pixels."""
        out = boxes_px.astype(np.float32).copy()
        out[:, [0, 2]] = (out[:, [0, 2]] - self.pad_x) / self.scale_x
        out[:, [1, 3]] = (out[:, [1, 3]] - self.pad_y) / self.scale_y
        return out


def letterbox_input(image_bgr: np.ndarray, size: int = INPUT_SIZE) -> tuple[np.ndarray, Letterbox]:
    """Fit a BGR frame, aspect ratio kept, into a (1, size, size, 3) RGB tensor in [-1, 1]."""
    height, width = image_bgr.shape[:2]
    scale = size / max(height, width)
    new_w = max(1, min(size, round(width * scale)))
    new_h = max(1, min(size, round(height * scale)))
    resized = cv2.resize(image_bgr, (new_w, new_h), interpolation=cv2.INTER_AREA)
    pad_x = (size - new_w) // 2
    pad_y = (size - new_h) // 2
    padded = cv2.copyMakeBorder(
        resized,
        pad_y,
        size - new_h - pad_y,
        pad_x,
        size - new_w - pad_x,
        cv2.BORDER_CONSTANT,
        value=(0, 0, 0),
    )
    rgb = cv2.cvtColor(padded, cv2.COLOR_BGR2RGB)
    tensor = rgb.astype(np.float32) * (2.0 / 255.0) - 1.0
    # rounding makes the scale applied per axis differ slightly from `scale`
    box = Letterbox(scale_x=new_w / width, scale_y=new_h / height, pad_x=pad_x, pad_y=pad_y)
    return tensor[np.newaxis], box


def decode_boxes(regressors: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """(896, 16) regressors -> (896, 4) x1, y1, x2, y2 boxes in model-input pixels."""
    centre_x = regressors[:, 0] / COORD_SCALE + anchors[:, 0]
    centre_y = regressors[:, 1] / COORD_SCALE + anchors[:, 1]
    half_w = regressors[:, 2] / COORD_SCALE / 2.0
    half_h = regressors[:, 3] / COORD_SCALE / 2.0
    boxes = np.stack(
        [centre_x - half_w, centre_y - half_h, centre_x + half_w, centre_y + half_h], axis=1
    )
    return boxes * INPUT_SIZE


def scores_from_logits(logits: np.ndarray) -> np.ndarray:
    """Sigmoid of the clipped logits, as float32."""
    clipped = np.clip(logits.astype(np.float64), -SCORE_CLIP, SCORE_CLIP)
    return (1.0 / (1.0 + np.exp(-clipped))).astype(np.float32)


def box_iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """IoU of one x1, y1, x2, y2 box with each of (N, 4) boxes."""
    inter_w = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0, None)
    inter_h = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0, None)
    inter = inter_w * inter_h
    area = max(float((box[2] - box[0]) * (box[3] - box[1])), 0.0)
    areas = np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(
        boxes[:, 3] - boxes[:, 1], 0, None
    )
    union = area + areas - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)


def weighted_nms(
    boxes: np.ndarray, scores: np.ndarray, iou_threshold: float = 0.3
) -> list[tuple[np.ndarray, float]]:
    """MediaPipe-style weighted NMS.

    Take the best remaining box, gather every remaining box overlapping it by more than
    ``iou_threshold``, replace the cluster by the score-weighted mean of its boxes and keep
    the best score. Returns (box, score) pairs, best first.
    """
    order = np.argsort(-scores)
    boxes = boxes[order]
    scores = scores[order]
    kept: list[tuple[np.ndarray, float]] = []
    remaining = np.ones(len(scores), dtype=bool)
    for i in range(len(scores)):
        if not remaining[i]:
            continue
        candidates = np.flatnonzero(remaining)
        overlaps = box_iou(boxes[i], boxes[candidates])
        cluster = candidates[overlaps > iou_threshold]
        cluster = np.union1d(cluster, [i])
        weights = scores[cluster]
        merged = (boxes[cluster] * weights[:, None]).sum(axis=0) / weights.sum()
        kept.append((merged, float(scores[i])))
        remaining[cluster] = False
    return kept
