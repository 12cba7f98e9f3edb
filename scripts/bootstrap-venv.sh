#!/usr/bin/env bash
# Create .venv with Python 3.11 (installing Debian's venv support when it is missing)
# and install the project into it, with the extras named in $1 (e.g. "test").
set -euo pipefail
cd "$(dirname "$0")/.."
extras=${1:-}
python=$(command -v python3.11 || command -v python3 || true)
if [ -z "$python" ]; then
  echo "bootstrap: no python3.11 found; on Debian: apt-get install python3 python3-venv" >&2
  exit 1
fi
if ! "$python" -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11))'; then
  echo "bootstrap: $python is older than 3.11" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  if ! "$python" -m venv .venv 2>/dev/null; then
    rm -rf .venv
    echo "bootstrap: $python cannot create a venv; installing Debian's python3-venv" >&2
    scripts/apt-install.sh python3-venv
    "$python" -m venv .venv
  fi
  .venv/bin/pip install --quiet --upgrade pip setuptools wheel
fi
spec="."
[ -n "$extras" ] && spec=".[$extras]"
stamp=".venv/.installed-${extras:-base}"
if [ ! -f "$stamp" ] || [ setup.cfg -nt "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/pip install --quiet -e "$spec"
  touch "$stamp"
fi
