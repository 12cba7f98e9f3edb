"""The unit as the .deb installs it, for systemd-analyze (tests/test_deb.py and
bench/systemd_security.py)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

UNIT = "affectra.service"


def unit_root(into: Path, unit: Path, wrapper: Path) -> Path:
    """A root with ``unit`` and ``wrapper`` (its ExecStart) where the package puts them,
    beside this machine's systemd units (sysinit.target and the like, which the unit needs)."""
    for source, path in ((unit, f"lib/systemd/system/{UNIT}"), (wrapper, "usr/bin/affectra")):
        (into / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, into / path)
    shutil.copytree("/usr/lib/systemd/system", into / "usr/lib/systemd/system", symlinks=True)
    return into


def security(root: Path) -> tuple[float, str, list[dict], str]:
    """`systemd-analyze security --offline=true` on the unit in ``root``: (overall exposure,
    its rating, the table as JSON, the text systemd-analyze printed)."""
    base = ["systemd-analyze", "security", "--offline=true", f"--root={root}"]
    text = subprocess.run([*base, UNIT], check=True, capture_output=True, text=True,
                          timeout=120).stdout
    match = re.search(rf"Overall exposure level for {re.escape(UNIT)}: ([\d.]+) (\w+)", text)
    if not match:
        raise AssertionError(f"no overall exposure in systemd-analyze's output:\n{text}")
    table = json.loads(subprocess.run([*base, "--json=short", UNIT], check=True,
                                      capture_output=True, text=True, timeout=120).stdout)
    return float(match[1]), match[2], table, text
