"""Write an ONNX emotion model for DeepFace with RANDOM weights, to test our plumbing.

Run with the Python of ``.venv-deepface-test`` (scripts/deepface-test-venv.sh), which has
deepface 0.0.103 and onnx; tests/test_deepface_backend.py does:

    .venv-deepface-test/bin/python tests/deepface_fake_onnx.py --deepface-home DIR

DeepFace's real weights come from GitHub or Hugging Face, which this machine cannot reach.
This file has the shape of the real one but RANDOM values: it tests that Affectra finds the
file, that deepface loads and runs it on onnxruntime, and that its seven outputs reach our
JSON in EMOTIONS order. It says nothing about accuracy.

What deepface 0.0.103 expects (deepface/models/demography/onnx/Emotion.py and
deepface/commons/onnx_utils.py): ``build_session`` opens
``$DEEPFACE_HOME/.deepface/weights/facial_expression_model_weights.onnx`` with onnxruntime;
``EmotionClient.predict`` turns each 224x224 BGR face in [0, 1] into 48x48 grayscale and feeds
``session.get_inputs()[0]`` a float32 (n, 48, 48, 1) channels-last batch; the first output is
(n, 7) scores, one per label of ``DemographyUtils.EMOTION_LABELS``. The layers here are those
of deepface's own emotion CNN (models/demography/pytorch/Emotion.py ``EmotionModel``, without
dropout), ending in a softmax as that model does.

So that a test can see whether the columns were mapped to the right emotions, the last layer
has a bias that rises by ``BIAS_STEP`` from one deepface label to the next, and its random
weights are scaled so the face moves each score by much less than that (``FC_3_WEIGHT_MAX``):
the emotions, ordered by probability, come out in deepface's label order, while the exact
values still depend on the face.

Prints one JSON object: the file written, its sha256, deepface's labels and the seed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# The name deepface/models/demography/onnx/Emotion.py load_model asks weight_utils for.
WEIGHTS_FILE_NAME = "facial_expression_model_weights.onnx"
# onnxruntime 1.32 runs opset 17 / IR version 8 graphs; any recent onnxruntime does.
OPSET = 17
IR_VERSION = 8
FACE_PX = 48
BIAS_STEP = 1.0
# Small enough that the face moves each score before the softmax by at most about 0.25
# (measured with seeds DEFAULT_SEED and 1-5 on blank, noise and photo inputs), so that
# neighbouring scores, BIAS_STEP apart, keep their order.
FC_3_WEIGHT_MAX = 0.005
DEFAULT_SEED = 20261125

# The layers of EmotionModel: (name, output channels, kernel) of each unpadded convolution,
# the (operator, size) of the stride-2 pooling after some of them, (name, in, out) of the
# dense layers before the last one.
CONVOLUTIONS = [("conv_1", 64, 5), ("conv_2", 64, 3), ("conv_3", 64, 3),
                ("conv_4", 128, 3), ("conv_5", 128, 3)]
POOLINGS = {"conv_1": ("MaxPool", 5), "conv_3": ("AveragePool", 3),
            "conv_5": ("AveragePool", 3)}
DENSE = [("fc_1", 128, 1024), ("fc_2", 1024, 1024)]


def he_normal(rng: np.random.Generator, shape: tuple[int, ...], fan_in: int) -> np.ndarray:
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)


def emotion_graph(rng: np.random.Generator, num_labels: int) -> onnx.GraphProto:
    """DeepFace's emotion CNN on a channels-last (n, 48, 48, 1) input, random weights."""
    nodes = [helper.make_node("Transpose", ["input"], ["x0"], perm=[0, 3, 1, 2])]
    weights: list[onnx.TensorProto] = []
    x, channels = "x0", 1
    for name, out_channels, kernel in CONVOLUTIONS:
        w = he_normal(rng, (out_channels, channels, kernel, kernel), channels * kernel * kernel)
        b = np.zeros(out_channels, np.float32)
        weights += [numpy_helper.from_array(w, f"{name}.w"),
                    numpy_helper.from_array(b, f"{name}.b")]
        nodes += [helper.make_node("Conv", [x, f"{name}.w", f"{name}.b"], [f"{name}.conv"]),
                  helper.make_node("Relu", [f"{name}.conv"], [f"{name}.out"])]
        x, channels = f"{name}.out", out_channels
        if name in POOLINGS:
            op, size = POOLINGS[name]
            nodes.append(helper.make_node(op, [x], [f"{name}.pool"], kernel_shape=[size, size],
                                          strides=[2, 2]))
            x = f"{name}.pool"
    nodes.append(helper.make_node("Flatten", [x], ["flat"], axis=1))  # (n, 128, 1, 1) -> (n, 128)
    x = "flat"
    for name, fan_in, fan_out in DENSE:
        w = he_normal(rng, (fan_in, fan_out), fan_in)
        b = np.zeros(fan_out, np.float32)
        weights += [numpy_helper.from_array(w, f"{name}.w"),
                    numpy_helper.from_array(b, f"{name}.b")]
        nodes += [helper.make_node("Gemm", [x, f"{name}.w", f"{name}.b"], [f"{name}.dense"]),
                  helper.make_node("Relu", [f"{name}.dense"], [f"{name}.out"])]
        x = f"{name}.out"
    w3 = rng.uniform(-FC_3_WEIGHT_MAX, FC_3_WEIGHT_MAX, (DENSE[-1][2], num_labels))
    b3 = np.arange(num_labels) * BIAS_STEP
    weights += [numpy_helper.from_array(w3.astype(np.float32), "fc_3.w"),
                numpy_helper.from_array(b3.astype(np.float32), "fc_3.b")]
    nodes += [helper.make_node("Gemm", [x, "fc_3.w", "fc_3.b"], ["logits"]),
              helper.make_node("Softmax", ["logits"], ["output"], axis=1)]
    return helper.make_graph(
        nodes, "deepface_emotion_random_weights",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["n", FACE_PX, FACE_PX, 1])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["n", num_labels])],
        initializer=weights)


def write_model(deepface_home: Path, seed: int) -> dict:
    from deepface.models.demography.DemographyUtils import EMOTION_LABELS

    graph = emotion_graph(np.random.default_rng(seed), len(EMOTION_LABELS))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              ir_version=IR_VERSION, producer_name="affectra tests")
    helper.set_model_props(model, {"values": "random, for plumbing tests only", "seed": str(seed)})
    onnx.checker.check_model(model, full_check=True)
    path = deepface_home / ".deepface" / "weights" / WEIGHTS_FILE_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    data = model.SerializeToString()
    path.write_bytes(data)
    return {"path": str(path), "sha256": hashlib.sha256(data).hexdigest(),
            "labels": list(EMOTION_LABELS), "seed": seed, "values": "random"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deepface-home", type=Path, required=True,
                        help="writes DIR/.deepface/weights/" + WEIGHTS_FILE_NAME)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    json.dump(write_model(args.deepface_home.resolve(), args.seed), sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
