"""Three cameras in one daemon; one dies: do the other two keep their frame rate?

Two real MJPEG servers on loopback (Espressif and ESPHome flavours, 15 fps each, the test
suite's servers) and one video file (15 fps) run in one in-process daemon with real models.
We count frames received and analysed per camera over a window before and after killing
the first server.

    .venv/bin/python bench/cameras.py [--window 10]

Writes bench/results/cameras.json and the cameras table in bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from pipeline import RESULTS, machine, update_readme  # noqa: E402

from affectra_edge.cameras.scene import Appearance  # noqa: E402
from affectra_edge.config import config_from_dict  # noqa: E402
from affectra_edge.daemon import Daemon  # noqa: E402
from tests.conftest import write_video  # noqa: E402
from tests.mjpeg_servers import CameraServer  # noqa: E402

FPS = 15.0


def rates(daemon: Daemon, window_s: float) -> dict[str, dict[str, float]]:
    before = {s.camera_id: s.frames_received for s in daemon.supervisor.statuses()}
    analysed = {p.camera.id: [] for p in daemon.supervisor.pipelines}
    start = time.monotonic()
    while time.monotonic() - start < window_s:
        time.sleep(0.5)
        for pipeline in daemon.supervisor.pipelines:
            analysed[pipeline.camera.id].append(pipeline.analysis_fps())
    elapsed = time.monotonic() - start
    result = {}
    for status in daemon.supervisor.statuses():
        samples = analysed.get(status.camera_id) or [0.0]
        result[status.camera_id] = {
            "state": status.state,
            "received_fps": round((status.frames_received - before[status.camera_id]) / elapsed,
                                  2),
            "analysed_fps": round(sorted(samples)[len(samples) // 2], 2)}
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        video = write_video(Path(tmp) / "hall.avi", [Appearance(0, 1e9, 0.5, 0.5, 130)], 6.0,
                            fps=FPS)
        door = CameraServer("espressif", fps=FPS).start()
        desk = CameraServer("esphome", fps=FPS).start()
        state = Path(tmp) / "state"
        state.mkdir(mode=0o750)
        config = config_from_dict({
            "cameras": {"active": "door", "reconnect_max_s": 2.0, "sources": [
                {"id": "door", "kind": "mjpeg", "source": door.url(), "stall_timeout_s": 2.0},
                {"id": "desk", "kind": "mjpeg", "source": desk.url(), "stall_timeout_s": 2.0},
                {"id": "hall", "kind": "file", "source": str(video), "loop": True}]},
            "storage": {"state_dir": str(state)}, "web": {"port": 0}, "logging": {"level": "WARNING"}})
        daemon = Daemon(config)
        daemon.start()
        try:
            time.sleep(3.0)
            all_up = rates(daemon, args.window)
            door.stop()
            time.sleep(3.0)
            one_down = rates(daemon, args.window)
        finally:
            daemon.shutdown()
            desk.stop()
    result = {"benchmark": "cameras", "date": datetime.now(UTC).isoformat(timespec="seconds"),
              "machine": machine(), "camera_fps": FPS, "window_s": args.window,
              "all_up": all_up, "door_killed": one_down}
    (RESULTS / "cameras.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = ["| camera | received fps, all up | received fps, door killed | analysed fps, all up "
             "| analysed fps, door killed | state after |", "|---|---|---|---|---|---|"]
    for camera in ("door", "desk", "hall"):
        a, b = all_up[camera], one_down[camera]
        lines.append(f"| {camera} | {a['received_fps']:.1f} | {b['received_fps']:.1f} | "
                     f"{a['analysed_fps']:.1f} | {b['analysed_fps']:.1f} | {b['state']} |")
    lines += ["", f"Cameras at {FPS:g} fps, {args.window:g} s windows; door and desk are MJPEG "
              "servers on loopback (Espressif and ESPHome flavours), hall a video file. "
              f"{result['date']}."]
    table = "\n".join(lines)
    print(table)
    update_readme("cameras", table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
