"""How exposed the hardened unit is: `systemd-analyze security --offline=true` on
systemd/affectra.service as the .deb installs it (the unit, and /usr/bin/affectra as its
ExecStart), beside this machine's own systemd units.

Prints the overall exposure and the settings that still cost points, writes the full table to
bench/results/systemd-security.json and rewrites its section of bench/README.md. The package's
copy of the unit is the checkout's byte for byte (tests/test_deb.py checks that).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from pipeline import RESULTS, ROOT, update_readme  # noqa: E402

from tests.systemd_unit import UNIT, security, unit_root  # noqa: E402


# Why each setting that still costs points stays as it is (settings not named here: none).
WHY = {
    "PrivateNetwork=": "cameras, MQTT and the web UI are on the network",
    "RestrictAddressFamilies=~AF_(INET|INET6)": "the same: IPv4 and IPv6 are needed",
    "RestrictAddressFamilies=~AF_UNIX": "sd_notify and the control socket",
    "PrivateDevices=": "webcams are /dev/video*; DeviceAllow= admits only those",
    "DeviceAllow=": "char-rtc is added by ProtectClock=; char-video4linux is the webcams",
    "SupplementaryGroups=": "video, to open webcams",
    "IPAddressDeny=": "cameras and brokers may be at any address the owner gives",
    "UMask=": "0027: the group may read state, as the state dir's 0750 intends",
    "PrivateUsers=": "not tried: a user namespace would hide the video group's id",
    "PrivateMounts=": "not tried without a systemd host to test on",
    "ProcSubset=": "not tried: OpenCV and numpy read /proc/cpuinfo for CPU features",
    "MemoryDenyWriteExecute=": "not tried without a systemd host to test on",
    "RootDirectory=/RootImage=": "the daemon runs from the package's own files in place",
}


def cell(text: str) -> str:
    """``text`` safe inside a Markdown table cell."""
    return text.replace("|", "\\|")


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        root = unit_root(Path(tmp), ROOT / "systemd" / UNIT, ROOT / "debian" / "wrapper.sh")
        exposure, rating, table, _text = security(root)
    version = subprocess.run(["systemd-analyze", "--version"], check=True, capture_output=True,
                             text=True).stdout.splitlines()[0]
    date = datetime.now(UTC).isoformat(timespec="seconds")
    costly = sorted((row for row in table if row.get("exposure")),
                    key=lambda row: -float(row["exposure"]))
    results = {"benchmark": "systemd-security", "date": date,
               "unit": "systemd/affectra.service, as installed by the .deb",
               "systemd": version, "overall_exposure": exposure, "rating": rating,
               "table": table}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "systemd-security.json").write_text(
        json.dumps(results, indent=2, ensure_ascii=False) + "\n")

    lines = [(f"Overall exposure **{exposure} {rating}** (0 is fully locked down, 10 is "
              f"unprotected; 2.0 or below rates OK). Settings that still cost points:"), "",
             "| setting | exposure | what systemd-analyze says | why it stays |",
             "|---|---|---|---|"]
    lines += [f"| `{cell(row['name'])}` | {float(row['exposure']):.1f} | "
              f"{cell(row['description'])} | {WHY.get(row['name'], '')} |" for row in costly]
    lines += ["", f"{version}; {date}."]
    update_readme("systemd-security", "\n".join(lines))
    print(f"{UNIT}: overall exposure {exposure} {rating}")
    for row in costly:
        print(f"  {float(row['exposure']):.1f}  {row['name']}: {row['description']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
