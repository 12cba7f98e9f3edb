#!/usr/bin/env bash
# Build bench/.venv-deepface: DeepFace on TensorFlow, in a venv of its own, for the
# "what users would otherwise do" baseline of `make bench-baseline`.
#
# Idempotent: when the venv exists, was built from the current
# bench/requirements-deepface.txt and imports cleanly, it does nothing.
# Otherwise it deletes the venv and builds it again from the pinned requirements.
#
# Environment:
#   PYTHON311        interpreter to build the venv with (default: python3.11, else
#                    python3 if that is 3.11)
#   DEEPFACE_VENV    where the venv goes (default: bench/.venv-deepface)
#
# The venv is large (TensorFlow): 2.5 GB on disk on x86_64, about a minute to install
# on a fast link (the TensorFlow wheel alone is ~570 MB, ~280 MB on aarch64). It is never
# used by the product. Next step: bench/deepface_fake_weights.py (emotion weights).
set -euo pipefail

bench_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv_dir="${DEEPFACE_VENV:-${bench_dir}/.venv-deepface}"
requirements="${bench_dir}/requirements-deepface.txt"
python="${PYTHON311:-$(command -v python3.11 || command -v python3 || echo python3.11)}"
stamp="${venv_dir}/.requirements.sha256"

log() { printf 'deepface_env: %s\n' "$*" >&2; }

requirements_hash() {
    sha256sum "${requirements}" | cut -d' ' -f1
}

# True when the venv was built from these requirements and DeepFace imports. Importing
# deepface.DeepFace creates $DEEPFACE_HOME/.deepface/weights, so point it at a scratch dir.
venv_is_usable() {
    [[ -x "${venv_dir}/bin/python" && -f "${stamp}" ]] || return 1
    [[ "$(cat "${stamp}")" == "$(requirements_hash)" ]] || return 1
    local scratch_home status=0
    scratch_home="$(mktemp -d)"
    DEEPFACE_HOME="${scratch_home}" DEEPFACE_BACKEND_ENGINE=tensorflow TF_CPP_MIN_LOG_LEVEL=3 \
        "${venv_dir}/bin/python" - <<'EOF' >/dev/null 2>&1 || status=$?
import os

import cv2
import tf_keras  # noqa: F401
from deepface import DeepFace  # noqa: F401  (sets TF_USE_LEGACY_KERAS, imports tensorflow)

# DeepFace's default detector needs cv2.CascadeClassifier and the cascade files that
# ship in opencv 4 wheels; without them it would try to download them.
assert hasattr(cv2, "CascadeClassifier"), cv2.__version__
for name in ("haarcascade_frontalface_default.xml", "haarcascade_eye.xml"):
    assert os.path.isfile(os.path.join(cv2.data.haarcascades, name)), name
EOF
    rm -rf -- "${scratch_home}"
    return "${status}"
}

if venv_is_usable; then
    log "${venv_dir} is up to date"
    exit 0
fi

if ! command -v "${python}" >/dev/null 2>&1; then
    log "error: ${python} not found; set PYTHON311 to a Python 3.11 interpreter"
    exit 1
fi
if ! "${python}" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
    log "error: ${python} is not Python 3.11 ($("${python}" --version 2>&1))"
    exit 1
fi

if [[ -e "${venv_dir}" ]]; then
    case "$(basename "${venv_dir}")" in
        .venv-deepface*) ;;
        *) log "error: refusing to delete ${venv_dir}: not named .venv-deepface*"; exit 1 ;;
    esac
    log "removing outdated or broken ${venv_dir}"
    rm -rf -- "${venv_dir}"
fi

started_s="$(date +%s)"
log "creating ${venv_dir} with $("${python}" --version 2>&1)"
if ! "${python}" -m venv "${venv_dir}" 2>/dev/null; then
    rm -rf -- "${venv_dir}"
    log "${python} cannot create a venv; installing Debian's python3-venv"
    "${bench_dir}/../scripts/apt-install.sh" python3-venv
    "${python}" -m venv "${venv_dir}"
fi
log "installing ${requirements} (TensorFlow is a ~570 MB download on x86_64)"
"${venv_dir}/bin/python" -m pip install --quiet --disable-pip-version-check \
    --requirement "${requirements}"
"${venv_dir}/bin/python" -m pip check

# Written last: an interrupted install leaves no stamp and is rebuilt next time.
requirements_hash >"${stamp}"
if ! venv_is_usable; then
    rm -f -- "${stamp}"
    log "error: ${venv_dir} was installed but DeepFace does not import"
    exit 1
fi
log "done in $(( $(date +%s) - started_s )) s, $(du -sh "${venv_dir}" | cut -f1) on disk"
