"""The DeepFace backend, end to end through the real `affectra` command, on onnxruntime.

The main venv has no deepface, so these tests run `affectra` from .venv-deepface-test, built
(once, pinned) by scripts/deepface-test-venv.sh: the project with its "deepface" extra, no
tensorflow, no torch. If that venv cannot be built the tests FAIL with the script's output;
they never skip.

DeepFace's real weights cannot be downloaded here, so tests/deepface_fake_onnx.py writes an
emotion model of the shape deepface expects with RANDOM weights: these tests prove the
plumbing (the file is found, deepface runs it, its seven scores reach our JSON in the right
order), not accuracy. Nothing may be downloaded: any HTTP(S) request goes to a dead proxy,
and the weights directory must hold only our file afterwards.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
from pathlib import Path

import pytest

from affectra_edge.emotions import EMOTIONS
from tests.conftest import ROOT

VENV_SCRIPT = ROOT / "scripts" / "deepface-test-venv.sh"
VENV = ROOT / ".venv-deepface-test"
FAKE_MODEL_SCRIPT = Path(__file__).with_name("deepface_fake_onnx.py")
PHOTO = ROOT / "affectra_edge" / "photos" / "astronaut.png"
WEIGHTS_FILE_NAME = "facial_expression_model_weights.onnx"
# Port 9 (discard) on localhost: nothing listens, so a download attempt fails at once.
DEAD_PROXY = "http://127.0.0.1:9"
# The first test may have to build the venv (about 20 s from pip's cache, minutes without).
pytestmark = pytest.mark.timeout(1500)


@pytest.fixture(scope="session")
def deepface_venv() -> Path:
    """.venv-deepface-test, built or found up to date by the script."""
    result = subprocess.run([str(VENV_SCRIPT)], capture_output=True, text=True, timeout=1200)
    if result.returncode != 0:
        pytest.fail(f"{VENV_SCRIPT.relative_to(ROOT)} failed with exit code "
                    f"{result.returncode}; cannot test the deepface backend:\n"
                    f"{result.stdout}{result.stderr}", pytrace=False)
    return VENV


@pytest.fixture(scope="session")
def fake_weights(deepface_venv: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A DEEPFACE_HOME holding an ONNX emotion model with RANDOM weights (plumbing only)."""
    home = tmp_path_factory.mktemp("deepface-home")
    result = subprocess.run(
        [str(deepface_venv / "bin" / "python"), str(FAKE_MODEL_SCRIPT), "--deepface-home",
         str(home)], capture_output=True, text=True, timeout=120, env=venv_env(home))
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    info["home"] = home
    return info


def venv_env(deepface_home: Path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items()
           if name.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")}
    for name in ("AFFECTRA_CONFIG", "DEEPFACE_BACKEND_ENGINE", "PYTHONPATH"):
        env.pop(name, None)
    env.update(DEEPFACE_HOME=str(deepface_home), HTTP_PROXY=DEAD_PROXY, HTTPS_PROXY=DEAD_PROXY,
               http_proxy=DEAD_PROXY, https_proxy=DEAD_PROXY)
    return env


def analyze_photo(venv: Path, classifier: str, deepface_home: Path,
                  tmp_path: Path) -> subprocess.CompletedProcess:
    config = tmp_path / f"{classifier}.toml"
    config.write_text(f'[vision]\nclassifier = "{classifier}"\n')
    return subprocess.run(
        [str(venv / "bin" / "affectra"), "analyze", str(PHOTO), "--json", "--config",
         str(config)], capture_output=True, text=True, timeout=120, env=venv_env(deepface_home))


def only_face(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()  # a photo is one frame; nothing else on stdout
    (face,) = json.loads(line)["faces"]
    return face


def files_under(directory: Path) -> list[Path]:
    return sorted(path for path in directory.rglob("*") if not path.is_dir())


def test_deepface_runs_its_onnx_emotion_model_on_a_real_photo(
    deepface_venv: Path, fake_weights: dict, tmp_path: Path
) -> None:
    home: Path = fake_weights["home"]
    weights = home / ".deepface" / "weights" / WEIGHTS_FILE_NAME

    face = only_face(analyze_photo(deepface_venv, "deepface", home, tmp_path))

    probabilities = face["probabilities"]
    assert list(probabilities) == list(EMOTIONS)
    assert all(0.0 <= p <= 1.0 for p in probabilities.values())
    assert math.isclose(sum(probabilities.values()), 1.0, abs_tol=1e-3)  # 4 decimals each
    # The model's last-layer bias ranks deepface's columns in deepface's label order, so the
    # columns were mapped to the right emotions only if ours rank that way too.
    assert sorted(EMOTIONS, key=probabilities.__getitem__) == fake_weights["labels"]
    assert face["top_emotion"] == fake_weights["labels"][-1]
    # ...while the face itself moved the scores: the network ran on it.
    bias_only = softmax(range(len(EMOTIONS)))
    by_label = [probabilities[label] for label in fake_weights["labels"]]
    assert max(abs(p - q) for p, q in zip(by_label, bias_only, strict=True)) > 0.005

    reference = only_face(analyze_photo(deepface_venv, "mini_xception", home, tmp_path))
    assert reference["box"] == face["box"]
    assert reference["top_emotion"] == "happy"
    differences = [abs(probabilities[e] - reference["probabilities"][e]) for e in EMOTIONS]
    assert max(differences) > 0.1, (probabilities, reference["probabilities"])

    assert files_under(home) == [weights]  # nothing downloaded, nothing else written
    assert hashlib.sha256(weights.read_bytes()).hexdigest() == fake_weights["sha256"]


def test_deepface_without_weights_is_one_clear_error(deepface_venv: Path, tmp_path: Path) -> None:
    home = tmp_path / "empty-home"
    home.mkdir()
    missing = home / ".deepface" / "weights" / WEIGHTS_FILE_NAME

    result = analyze_photo(deepface_venv, "deepface", home, tmp_path)

    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()  # one message, no traceback, no library noise
    assert line.startswith("affectra: error:") and str(missing) in line, line
    assert files_under(home) == [] and list(home.iterdir()) == []  # nothing fetched or made


def softmax(scores: range) -> list[float]:
    exps = [math.exp(score) for score in scores]
    return [e / sum(exps) for e in exps]
