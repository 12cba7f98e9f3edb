#!/usr/bin/env bash
# Build .venv-deepface-test: the project with its "deepface" extra, on onnxruntime, plus
# onnx, for tests/test_deepface_backend.py. Never used by the product.
#
# Idempotent: the venv's stamp file holds the sha256 of tests/requirements-deepface-test.txt
# (and of setup.cfg and pyproject.toml, which `pip install -e .` reads); when it matches,
# nothing is done. Otherwise the venv is deleted and built again from the pinned versions,
# then checked: no tensorflow or torch, cv2 4.x with its Haar cascades, deepface on onnx.
#
# Environment: PYTHON311, the interpreter to use (default: python3.11).
# Output: progress and errors on stderr; exit status 0 only for a usable venv.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$(pwd)"
venv_dir="${root}/.venv-deepface-test"
requirements="tests/requirements-deepface-test.txt"
stamp="${venv_dir}/.requirements.sha256"
python="${PYTHON311:-python3.11}"

log() { printf 'deepface-test-venv: %s\n' "$*" >&2; }

wanted_stamp() { sha256sum "${requirements}" setup.cfg pyproject.toml; }

# One build at a time (make test-deps and the test fixture may both call this).
exec 9<"${BASH_SOURCE[0]}"
flock 9

if [[ -x "${venv_dir}/bin/affectra" && -f "${stamp}" ]] \
        && [[ "$(cat "${stamp}")" == "$(wanted_stamp)" ]]; then
    log "${venv_dir} is up to date"
    exit 0
fi

if ! command -v "${python}" >/dev/null 2>&1; then
    log "error: ${python} not found; install Python 3.11 or set PYTHON311"
    exit 1
fi
if ! "${python}" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
    log "error: ${python} is not Python 3.11 ($("${python}" --version 2>&1))"
    exit 1
fi

started_s="$(date +%s)"
if [[ -e "${venv_dir}" ]]; then
    log "removing outdated or unfinished ${venv_dir}"
    rm -rf -- "${venv_dir}"
fi
log "creating ${venv_dir} with $("${python}" --version 2>&1)"
if ! "${python}" -m venv "${venv_dir}" 2>/dev/null; then
    rm -rf -- "${venv_dir}"
    log "${python} cannot create a venv; installing Debian's python3-venv"
    scripts/apt-install.sh python3-venv
    "${python}" -m venv "${venv_dir}"
fi
pip=("${venv_dir}/bin/python" -m pip --disable-pip-version-check)
log "installing -e .[deepface] and ${requirements}"
"${pip[@]}" install --quiet -e '.[deepface]' --requirement "${requirements}"
"${pip[@]}" check >&2

log "checking the venv"
# DEEPFACE_HOME points at an empty scratch dir: nothing may be created in the user's home.
scratch_home="$(mktemp -d)"
trap 'rm -rf -- "${scratch_home}"' EXIT
env -u DEEPFACE_BACKEND_ENGINE DEEPFACE_HOME="${scratch_home}" \
    "${venv_dir}/bin/python" - <<'EOF'
import importlib.metadata
import os
import sys

import cv2
import onnx  # noqa: F401

from deepface.commons import backend_utils

problems = []
installed = {dist.metadata["Name"].lower() for dist in importlib.metadata.distributions()}
forbidden = sorted(installed & {"tensorflow", "tensorflow-cpu", "tf-keras", "keras", "torch"})
if forbidden:
    problems.append(f"must not be installed: {', '.join(forbidden)}")
if not cv2.__version__.startswith("4."):
    problems.append(f"cv2 is {cv2.__version__}, not 4.x")
cascade = os.path.join(getattr(getattr(cv2, "data", None), "haarcascades", ""),
                       "haarcascade_frontalface_default.xml")
if not os.path.isfile(cascade):
    problems.append(f"cv2 {cv2.__version__} has no Haar cascades (cv2.data.haarcascades)")
engine = backend_utils.get_backend_engine()
if engine != "onnx":
    problems.append(f"deepface picks the {engine} engine, not onnx")
for problem in problems:
    print(f"deepface-test-venv: error: {problem}", file=sys.stderr)
sys.exit(1 if problems else 0)
EOF

# Written last: an interrupted or rejected build leaves no stamp and is rebuilt next time.
wanted_stamp >"${stamp}"
log "done in $(( $(date +%s) - started_s )) s, $(du -sh "${venv_dir}" | cut -f1) on disk"
