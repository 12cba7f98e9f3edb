"""Give DeepFace's emotion model a weights file of the right shapes with random values.

Run inside bench/.venv-deepface (see bench/deepface_env.sh). DeepFace 0.0.103 downloads
its emotion weights from GitHub or Hugging Face at first use, which this machine (and an
offline box) cannot do. Speed does not depend on the values of the weights, so for the
baseline benchmark we build DeepFace's own emotion model through DeepFace's own code,
give it random values and save them where DeepFace looks for them:

    $DEEPFACE_HOME/.deepface/weights/facial_expression_model_weights.h5

(deepface/models/demography/tf/Emotion.py `load_model` builds a Keras Sequential CNN on
48x48 grayscale input and asks deepface/commons/weight_utils.py
`download_weights_if_necessary` for that file name, which returns early when the file
exists, then `load_model_weights` calls `model.load_weights(path)`.)

Next to the weights goes `facial_expression_model_weights.h5.RANDOM-VALUES.json`, which
says so. Every figure measured with these weights must say so too.

Afterwards a fresh process with networking made impossible runs
`DeepFace.analyze(..., actions=["emotion"])` and checks that DeepFace loaded exactly
these weights and tried no connection.

    bench/.venv-deepface/bin/python bench/deepface_fake_weights.py [--deepface-home DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import hashlib
import importlib
import json
import math
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_DEEPFACE_HOME = BENCH_DIR / ".deepface-home"

# The name deepface/models/demography/tf/Emotion.py asks weight_utils for.
WEIGHTS_FILE_NAME = "facial_expression_model_weights.h5"
MARKER_SUFFIX = ".RANDOM-VALUES.json"
WEIGHTS_NOTE = (
    "random values of the right shapes "
    "(DeepFace's weights cannot be downloaded here; speed does not depend on them)"
)
EXPECTED_DEEPFACE_VERSION = "0.0.103"


def weights_path(deepface_home: Path) -> Path:
    """Where DeepFace looks for the emotion weights (weight_utils.download_weights_if_necessary)."""
    return deepface_home / ".deepface" / "weights" / WEIGHTS_FILE_NAME


def marker_path(deepface_home: Path) -> Path:
    weights = weights_path(deepface_home)
    return weights.with_name(weights.name + MARKER_SUFFIX)


class NetworkBlocked(OSError):
    """Raised instead of any connection or name lookup once block_network() ran."""


def block_network() -> list[str]:
    """Make every connection and name lookup of this process fail; return the list of
    attempts, which grows as they happen. Must run before DeepFace is imported."""
    attempts: list[str] = []

    def refuse(what: str) -> Any:
        def refused(*args: Any, **_kwargs: Any) -> Any:
            target = args[1] if what.startswith("socket.") and len(args) > 1 else args[:2]
            attempts.append(f"{what} {target!r}")
            raise NetworkBlocked(f"networking is blocked in this benchmark: {what} {target!r}")

        return refused

    socket.socket.connect = refuse("socket.connect")  # type: ignore[method-assign]
    socket.socket.connect_ex = refuse("socket.connect_ex")  # type: ignore[method-assign]
    socket.getaddrinfo = refuse("getaddrinfo")  # type: ignore[assignment]
    socket.create_connection = refuse("create_connection")  # type: ignore[assignment]
    return attempts


def select_deepface(deepface_home: Path) -> None:
    """Environment DeepFace reads at import: where its weights are, and which engine."""
    os.environ["DEEPFACE_HOME"] = str(deepface_home)
    # DeepFace would pick tensorflow anyway when it is installed; say it explicitly so a
    # broken TensorFlow fails loudly instead of falling back to onnxruntime.
    os.environ["DEEPFACE_BACKEND_ENGINE"] = "tensorflow"
    # deepface/DeepFace.py sets this before it imports tensorflow, so that tf.keras is
    # Keras 2 (tf-keras). Set it here too: tensorflow imported before deepface.DeepFace
    # would otherwise give a Keras 3 model, i.e. not what DeepFace users run.
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def keras_of(model: Any) -> str:
    """Which Keras a model object belongs to, e.g. 'tf_keras 2.21.0'."""
    package = type(model).__module__.split(".")[0]
    module = sys.modules.get(package)
    return f"{package} {getattr(module, '__version__', '?')}"


def require_keras2(model: Any) -> None:
    if not keras_of(model).startswith("tf_keras "):
        raise SystemExit(
            f"DeepFace's emotion model is a {keras_of(model)} model, expected tf_keras "
            "(Keras 2): tensorflow was imported before TF_USE_LEGACY_KERAS was set"
        )


def weights_digest(arrays: list[Any]) -> str:
    """sha256 over the shapes, dtypes and bytes of a list of numpy arrays."""
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(f"{array.shape}{array.dtype}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@contextlib.contextmanager
def patched(module: Any, **replacements: Any) -> Iterator[None]:
    originals = {name: getattr(module, name) for name in replacements}
    for name, value in replacements.items():
        setattr(module, name, value)
    try:
        yield
    finally:
        for name, value in originals.items():
            setattr(module, name, value)


def build_emotion_model_without_weights(deepface_home: Path) -> Any:
    """Build the Keras model with DeepFace's own load_model(), skipping only its
    download-and-load step; check that it asks for the file name we write."""
    from deepface import DeepFace  # noqa: F401  (its import-time setup, as for users)
    from deepface.commons import weight_utils
    from deepface.modules import modeling

    emotion_class = modeling.get_model_class(task="facial_attribute", model_name="Emotion")
    emotion_module = importlib.import_module(emotion_class.__module__)
    requested: list[str] = []

    def no_download(file_name: str, source_url: Any, compress_type: Any = None) -> str:
        requested.append(file_name)
        return str(weights_path(deepface_home))

    def no_load(model: Any, weight_file: str) -> Any:
        return model

    with patched(
        weight_utils, download_weights_if_necessary=no_download, load_model_weights=no_load
    ):
        model = emotion_module.load_model()

    if requested != [WEIGHTS_FILE_NAME]:
        raise SystemExit(
            f"{emotion_class.__module__}.load_model asked for {requested}, "
            f"this script writes only {WEIGHTS_FILE_NAME}: DeepFace changed, update the script"
        )
    return model


def randomize(model: Any, seed: int) -> None:
    """He-normal kernels (activations stay in a normal float range, no denormals) and
    small random biases, reproducible from the seed."""
    import numpy as np

    rng = np.random.default_rng(seed)
    values = []
    for current in model.get_weights():
        if current.ndim > 1:
            fan_in = math.prod(current.shape[:-1])
            new = rng.normal(0.0, math.sqrt(2.0 / fan_in), current.shape)
        else:
            new = rng.normal(0.0, 0.01, current.shape)
        values.append(new.astype(current.dtype))
    model.set_weights(values)


def write_fake_weights(deepface_home: Path, seed: int) -> None:
    block_network()  # building the model must not need it either
    select_deepface(deepface_home)
    import deepface
    import tensorflow as tf

    model = build_emotion_model_without_weights(deepface_home)
    require_keras2(model)
    randomize(model, seed)

    target = weights_path(deepface_home)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial.h5")
    model.save_weights(str(partial), save_format="h5")
    os.replace(partial, target)

    marker = {
        "weights": WEIGHTS_NOTE,
        "file": str(target),
        "sha256": file_sha256(target),
        "weights_digest": weights_digest(model.get_weights()),
        "shapes": ["x".join(map(str, w.shape)) for w in model.get_weights()],
        "parameters": int(model.count_params()),
        "seed": seed,
        "initialisation": "kernels normal(0, sqrt(2/fan_in)), biases normal(0, 0.01)",
        "built_by": "deepface.models.demography.tf.Emotion.load_model (weights step skipped)",
        "deepface": deepface.__version__,
        "tensorflow": tf.__version__,
        "keras": keras_of(model),
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }
    marker_path(deepface_home).write_text(json.dumps(marker, indent=2) + "\n")
    size = target.stat().st_size
    print(f"wrote {target} ({size} bytes, {marker['parameters']} parameters, seed {seed})")


def verify(deepface_home: Path) -> int:
    """In this process: block networking, run DeepFace.analyze on a synthetic frame and
    check that the emotion model holds the weights we wrote."""
    attempts = block_network()
    select_deepface(deepface_home)
    import numpy as np
    from deepface import DeepFace

    marker = json.loads(marker_path(deepface_home).read_text())
    frame = np.random.default_rng(1).integers(60, 200, size=(480, 640, 3), dtype=np.uint8)
    try:
        results = DeepFace.analyze(frame, actions=["emotion"], enforce_detection=False)
    except Exception as err:  # noqa: BLE001  (report whatever DeepFace raised)
        print(f"verify: DeepFace.analyze failed: {err!r}; network attempts: {attempts}")
        return 1
    emotion = DeepFace.build_model(task="facial_attribute", model_name="Emotion")
    require_keras2(emotion.model)
    loaded = weights_digest(emotion.model.get_weights())
    problems = []
    if attempts:
        problems.append(f"DeepFace tried the network: {attempts}")
    if loaded != marker["weights_digest"]:
        problems.append("the emotion model does not hold the weights in the file")
    if file_sha256(weights_path(deepface_home)) != marker["sha256"]:
        problems.append("the weights file changed since it was written")
    if problems:
        print("verify: FAILED: " + "; ".join(problems))
        return 1
    print(
        f"verify: ok, DeepFace.analyze ran with networking blocked, no connection tried, "
        f"emotion model holds the random weights (dominant emotion on noise: "
        f"{results[0]['dominant_emotion']}, meaningless)"
    )
    return 0


def is_up_to_date(deepface_home: Path) -> bool:
    weights, marker = weights_path(deepface_home), marker_path(deepface_home)
    if not (weights.is_file() and marker.is_file()):
        return False
    return json.loads(marker.read_text()).get("sha256") == file_sha256(weights)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--deepface-home",
        type=Path,
        default=DEFAULT_DEEPFACE_HOME,
        help=f"DEEPFACE_HOME for the benchmark (default {DEFAULT_DEEPFACE_HOME})",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--force", action="store_true", help="rewrite the file even if it is there already"
    )
    parser.add_argument(
        "--verify-only", action="store_true", help="only run the offline check, in this process"
    )
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    deepface_home = args.deepface_home.resolve()
    if args.verify_only:
        return verify(deepface_home)

    weights = weights_path(deepface_home)
    if is_up_to_date(deepface_home) and not args.force:
        print(f"{weights} is there already (random values, see {marker_path(deepface_home).name})")
        return 0
    if weights.exists() and not marker_path(deepface_home).is_file() and not args.force:
        print(
            f"{weights} exists and was not written by this script (real weights?); "
            f"not overwriting it without --force",
            file=sys.stderr,
        )
        return 1

    # Writing imports TensorFlow and patches DeepFace; verify in a clean process.
    write_fake_weights(deepface_home, args.seed)
    command = [sys.executable, str(Path(__file__).resolve()), "--verify-only"]
    command += ["--deepface-home", str(deepface_home)]
    return subprocess.run(command, check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
