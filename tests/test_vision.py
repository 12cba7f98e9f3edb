"""Face detection and emotion classification: real models on real photos.

The photos ship in the package (affectra_edge/photos/, provenance in its README.md):
astronaut.png (NASA, public domain, one smiling face), coffee.png and chelsea.png
(CC0, no person; chelsea is a cat, a face that is not a human one).
"""

from __future__ import annotations

import importlib.resources
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from affectra_edge.emotions import EMOTIONS
from affectra_edge.vision import _litert, deepface_backend
from affectra_edge.vision.classifier import MiniXceptionClassifier, make_classifier
from affectra_edge.vision.detector import (
    BlazeFaceDetector,
    Detection,
    HaarDetector,
    clip_box,
    make_detector,
)
from affectra_edge.vision.errors import ModelError

# The astronaut's face in astronaut.png (512x512), read off the photo by eye: from the
# left to the right cheek (x 178..272) and from the hairline above the brows to the chin
# (y 78..186), as x, y, w, h.
ASTRONAUT_FACE = (178, 78, 94, 108)
NO_PERSON_PHOTOS = ("coffee.png", "chelsea.png")
# Composed scenes: (x, y of the pasted patch, face width in px, mirrored) on a frame of
# (width, height). BlazeFace short-range finds every face of 80 px or more in a 640x480
# frame (measured, see models/README.md); these faces are all wider than that. The
# portrait frame moves the letterbox padding from the top and bottom to the sides.
SCENES = {
    "landscape": ((640, 480), ((10, 20, 140, False), (300, 10, 100, True), (390, 200, 120, False))),
    "portrait": ((480, 640), ((10, 10, 130, False), (270, 150, 100, True), (40, 370, 110, False))),
}


def read_photo(name: str) -> np.ndarray:
    data = (importlib.resources.files("affectra_edge") / "photos" / name).read_bytes()
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None, name
    return image


def iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    inter_w = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    inter_h = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = inter_w * inter_h
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def paste_face(
    scene: np.ndarray, x: int, y: int, face_px: int, flip: bool
) -> tuple[int, int, int, int]:
    """Paste the astronaut's face (with hair and collar around it), face_px wide, at x, y.

    Returns the true face box in the scene.
    """
    fx, fy, fw, fh = ASTRONAUT_FACE
    crop = read_photo("astronaut.png")[
        fy - fh // 2 : fy + fh + fh // 2, fx - fw // 2 : fx + fw + fw // 2
    ]
    scale = face_px / fw
    patch = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    if flip:
        patch = patch[:, ::-1]
    ph, pw = patch.shape[:2]
    assert y + ph <= scene.shape[0] and x + pw <= scene.shape[1], "patch runs off the scene"
    scene[y : y + ph, x : x + pw] = patch
    return (x + round((fw // 2) * scale), y + round((fh // 2) * scale), face_px, round(fh * scale))


def three_face_scene(kind: str = "landscape") -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """A real no-person photo with the astronaut's face pasted at three places."""
    size, placements = SCENES[kind]
    scene = cv2.resize(read_photo("coffee.png"), size, interpolation=cv2.INTER_AREA)
    return scene, [paste_face(scene, *placement) for placement in placements]


@pytest.fixture(scope="module")
def blazeface() -> BlazeFaceDetector:
    return BlazeFaceDetector()


@pytest.fixture(scope="module")
def haar() -> HaarDetector:
    return HaarDetector()


@pytest.fixture(scope="module")
def classifier() -> MiniXceptionClassifier:
    return MiniXceptionClassifier()


# --- detection -------------------------------------------------------------------------


def test_blazeface_finds_the_astronaut_face(blazeface: BlazeFaceDetector) -> None:
    detections = blazeface.detect(read_photo("astronaut.png"))
    assert len(detections) == 1
    assert detections[0].score >= 0.5
    assert iou(detections[0].box, ASTRONAUT_FACE) > 0.6


def test_haar_also_finds_the_astronaut_face(haar: HaarDetector) -> None:
    detections = haar.detect(read_photo("astronaut.png"))
    assert len(detections) == 1
    assert iou(detections[0].box, ASTRONAUT_FACE) > 0.5


def test_haar_at_full_resolution_finds_it_too() -> None:
    detections = make_detector("haar", scale=1.0).detect(read_photo("astronaut.png"))
    assert [iou(d.box, ASTRONAUT_FACE) > 0.5 for d in detections] == [True]


@pytest.mark.parametrize("name", NO_PERSON_PHOTOS)
def test_no_face_on_photos_without_people(
    name: str, blazeface: BlazeFaceDetector, haar: HaarDetector
) -> None:
    image = read_photo(name)
    assert blazeface.detect(image) == []
    assert haar.detect(image) == []


@pytest.mark.parametrize("kind", sorted(SCENES))
def test_blazeface_finds_three_faces_at_the_right_places(
    kind: str, blazeface: BlazeFaceDetector
) -> None:
    scene, truths = three_face_scene(kind)
    detections = blazeface.detect(scene)
    assert len(detections) == 3
    for truth in truths:
        best = max(iou(d.box, truth) for d in detections)
        assert best > 0.6, (truth, detections)


def test_detections_are_clipped_to_the_frame(blazeface: BlazeFaceDetector) -> None:
    # cut through the forehead and the left cheek: the face box the model predicts starts
    # about 12 px outside the frame, so it must come back clipped to the edges
    image = read_photo("astronaut.png")[95:, 195:]
    [top_left] = blazeface.detect(image)
    assert (top_left.x, top_left.y) == (0, 0) and top_left.w > 60 and top_left.h > 60
    mirrored = np.ascontiguousarray(image[:, ::-1])  # now it runs off the right edge
    [top_right] = blazeface.detect(mirrored)
    assert top_right.y == 0 and top_right.x + top_right.w == mirrored.shape[1]


def test_clip_box_and_detection_box() -> None:
    assert clip_box(-10.4, -3, 50.6, 700, 100, 80, 0.9) == Detection(0, 0, 51, 80, 0.9)
    assert clip_box(120, 10, 150, 20, 100, 80, 0.9) is None
    assert Detection(1, 2, 3, 4, 0.5).box == (1, 2, 3, 4)


def test_higher_min_score_never_adds_detections(blazeface: BlazeFaceDetector) -> None:
    scene, _ = three_face_scene()
    strict = make_detector("blazeface", min_score=0.99)
    assert len(strict.detect(scene)) <= len(blazeface.detect(scene))


def test_unknown_detector_name() -> None:
    with pytest.raises(ValueError, match="unknown face detector 'yolo'.*blazeface, haar"):
        make_detector("yolo")


def test_detector_rejects_a_non_bgr_frame(blazeface: BlazeFaceDetector) -> None:
    with pytest.raises(ValueError, match="BGR uint8"):
        blazeface.detect(np.zeros((480, 640), np.uint8))


# --- model files -----------------------------------------------------------------------


def corrupt_copy(tmp_path: Path, name: str) -> Path:
    data = _litert.packaged_model(name).read_bytes()
    path = tmp_path / name
    path.write_bytes(data[: len(data) // 2])
    return path


def test_corrupt_detector_model_names_the_file(tmp_path: Path) -> None:
    path = corrupt_copy(tmp_path, "face_detection_short_range.tflite")
    with pytest.raises(ModelError, match="corrupt") as err:
        BlazeFaceDetector(model_path=path)
    assert str(path) in str(err.value)


def test_corrupt_classifier_model_names_the_file(tmp_path: Path) -> None:
    path = corrupt_copy(tmp_path, "emotion_model_quantized.tflite")
    with pytest.raises(ModelError) as err:
        MiniXceptionClassifier(model_path=path)
    assert str(path) in str(err.value)


def test_missing_and_garbage_model_files(tmp_path: Path) -> None:
    missing = tmp_path / "nope.tflite"
    with pytest.raises(ModelError, match="not found") as err:
        BlazeFaceDetector(model_path=missing)
    assert str(missing) in str(err.value)
    garbage = tmp_path / "garbage.tflite"
    garbage.write_bytes(b"this is not a model" * 100)
    with pytest.raises(ModelError, match="garbage.tflite"):
        MiniXceptionClassifier(model_path=garbage)


def test_the_wrong_model_is_refused() -> None:
    emotion_model = _litert.packaged_model("emotion_model_quantized.tflite")
    with pytest.raises(ModelError, match="not a BlazeFace short-range model"):
        BlazeFaceDetector(model_path=Path(str(emotion_model)))


def test_damaged_packaged_model_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # stands in for a packaged file altered after installation: the pin no longer matches
    monkeypatch.setitem(_litert.PACKAGED_SHA256, "face_detection_short_range.tflite", "0" * 64)
    with pytest.raises(ModelError, match="damaged.*face_detection_short_range.tflite"):
        BlazeFaceDetector()


# --- classification --------------------------------------------------------------------


def test_the_smiling_astronaut_is_happy(
    blazeface: BlazeFaceDetector, classifier: MiniXceptionClassifier
) -> None:
    image = read_photo("astronaut.png")
    [face] = blazeface.detect(image)
    [probs] = classifier.classify(image, [face.box])
    assert EMOTIONS[int(np.argmax(probs))] == "happy"
    assert probs[EMOTIONS.index("happy")] > 0.9


def test_every_face_in_the_scene_is_happy(
    blazeface: BlazeFaceDetector, classifier: MiniXceptionClassifier
) -> None:
    scene, _ = three_face_scene()
    results = classifier.classify(scene, [d.box for d in blazeface.detect(scene)])
    assert [EMOTIONS[int(np.argmax(p))] for p in results] == ["happy"] * 3


def test_probability_vectors(classifier: MiniXceptionClassifier) -> None:
    image = read_photo("astronaut.png")
    boxes = [ASTRONAUT_FACE, (0, 0, 0, 0), (480, 480, 100, 100), (600, 600, 50, 50)]
    results = classifier.classify(image, boxes)
    assert len(results) == len(boxes)
    for probs in results:
        assert probs.shape == (7,) and probs.dtype == np.float32
        assert probs.sum() == pytest.approx(1.0, abs=1e-5)
        assert (probs >= 0).all()
    # no pixels inside the image: the uniform vector, not a guess
    np.testing.assert_allclose(results[1], np.full(7, 1 / 7), rtol=1e-6)
    np.testing.assert_allclose(results[3], np.full(7, 1 / 7), rtol=1e-6)
    assert classifier.classify(image, []) == []


def test_batches_give_the_same_answers_as_single_faces(classifier: MiniXceptionClassifier) -> None:
    scene, truths = three_face_scene()
    together = classifier.classify(scene, truths)
    one_by_one = [classifier.classify(scene, [box])[0] for box in truths]
    np.testing.assert_allclose(np.array(together), np.array(one_by_one), atol=1e-5)


@settings(max_examples=40, deadline=None)
@given(
    boxes=st.lists(
        st.tuples(
            st.integers(-600, 600),
            st.integers(-600, 600),
            st.integers(-5, 600),
            st.integers(-5, 600),
        ),
        max_size=4,
    )
)
def test_any_boxes_give_one_distribution_each(
    classifier: MiniXceptionClassifier, boxes: list[tuple[int, int, int, int]]
) -> None:
    probs = classifier.classify(ASTRONAUT_IMAGE, boxes)
    assert len(probs) == len(boxes)
    for row in probs:
        assert row.shape == (7,) and abs(float(row.sum()) - 1.0) < 1e-5


ASTRONAUT_IMAGE = read_photo("astronaut.png")


def test_unknown_classifier_name() -> None:
    with pytest.raises(ValueError, match="unknown emotion classifier 'fer'.*mini_xception"):
        make_classifier("fer")


# --- DeepFace backend (the package and its weights are absent here, as on a default box) ---


def test_deepface_without_the_package_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    # None in sys.modules makes `import deepface` fail, whether or not it is installed
    monkeypatch.setitem(sys.modules, "deepface", None)
    monkeypatch.setitem(sys.modules, "deepface.commons", None)
    monkeypatch.setitem(sys.modules, "deepface.commons.backend_utils", None)
    with pytest.raises(ModelError, match=r"pip install 'affectra-edge\[deepface\]'"):
        make_classifier("deepface")


def test_deepface_weights_are_looked_for_in_deepface_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEEPFACE_HOME", str(tmp_path))
    expected = tmp_path / ".deepface" / "weights" / "facial_expression_model_weights.h5"
    assert deepface_backend.weights_path("tensorflow") == expected
    with pytest.raises(ModelError) as err:
        deepface_backend.check_weights("tensorflow")
    assert str(expected) in str(err.value) and "never downloads" in str(err.value)
    expected.parent.mkdir(parents=True)
    expected.write_bytes(b"\x89HDF\r\n\x1a\n")
    assert deepface_backend.check_weights("tensorflow") == expected


def test_deepface_home_defaults_to_the_home_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEEPFACE_HOME", raising=False)
    assert deepface_backend.deepface_home() == Path.home()
    onnx = deepface_backend.weights_path("onnx")
    assert onnx == Path.home() / ".deepface" / "weights" / "facial_expression_model_weights.onnx"


def test_deepface_labels_are_mapped_to_our_order() -> None:
    theirs = list(reversed(EMOTIONS))
    order = deepface_backend.label_order(theirs)
    assert [theirs[i] for i in order] == list(EMOTIONS)
    with pytest.raises(ModelError, match="labels"):
        deepface_backend.label_order(["happy", "sad"])
