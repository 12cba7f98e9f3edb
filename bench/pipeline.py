"""Pipeline benchmark: per-stage time, end-to-end fps, CPU share and peak RSS.

Frames are 640×480 scenes of real face photos (0, 1 or 3 faces drifting gently, so the tracker
has work to do), JPEG-encoded as a network camera would send them. Per frame we time decode
(cv2.imdecode), detect, track and classify, with the daemon's default settings (each face
classified at most 5 times a second at a camera rate of 30 fps), plus a worst case in which
every face is classified on every frame.

    .venv/bin/python bench/pipeline.py [--frames 300]

Writes bench/results/pipeline.json and the table in bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from affectra_edge.cameras.scene import Appearance, render  # noqa: E402
from affectra_edge.config import VisionConfig  # noqa: E402
from affectra_edge.vision.analyzer import build_analyzer  # noqa: E402

RESULTS = ROOT / "bench" / "results"
CAMERA_FPS = 30.0
SPOTS = (Appearance(0, 1e9, 0.25, 0.45, 110), Appearance(0, 1e9, 0.55, 0.55, 120, flip=True),
         Appearance(0, 1e9, 0.82, 0.40, 100))


def make_frames(faces: int, count: int) -> list[bytes]:
    """``count`` JPEG frames of a scene with ``faces`` real faces, at 30 fps scene time."""
    frames = []
    for index in range(count):
        image = render(SPOTS[:faces], index / CAMERA_FPS, 640, 480)
        ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])
        assert ok
        frames.append(data.tobytes())
    return frames


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def run_scenario(frames: list[bytes], classify_hz: float, paced: bool = False) -> dict:
    """Analyse every frame; ``paced`` holds the camera's 30 fps instead of running flat out."""
    vision = VisionConfig(classify_hz=classify_hz)
    analyzer = build_analyzer(vision, max_missed_s=2.0)
    analyzer.analyze(cv2.imdecode(np.frombuffer(frames[0], np.uint8), cv2.IMREAD_COLOR), 0.0)
    stages: dict[str, list[float]] = {"decode": [], "detect": [], "track": [], "classify": []}
    totals, faces_found = [], []
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for index, data in enumerate(frames, start=1):
        if paced:
            time.sleep(max(0.0, wall0 + index / CAMERA_FPS - time.perf_counter()))
        start = time.perf_counter()
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        decoded = time.perf_counter()
        analysis = analyzer.analyze(image, index / CAMERA_FPS)
        totals.append((time.perf_counter() - start) * 1000)
        stages["decode"].append((decoded - start) * 1000)
        for name, ms in analysis.timings_ms.items():
            stages[name].append(ms)
        faces_found.append(len(analysis.faces))
    wall = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0
    return {
        "frames": len(frames),
        "faces_found_median": statistics.median(faces_found),
        "stages_ms": {name: {"median": round(statistics.median(v), 3),
                             "mean": round(statistics.fmean(v), 3),
                             "p95": round(percentile(v, 95), 3)} for name, v in stages.items()},
        "frame_ms": {"median": round(statistics.median(totals), 3),
                     "p95": round(percentile(totals, 95), 3)},
        "fps": round(len(frames) / wall, 1),
        "cpu_cores_used": round(cpu / wall, 2),
    }


def measure_daemon(seconds: float = 30.0) -> dict:
    """The whole daemon (`affectra run`) on the demo scene at 30 fps: CPU share and peak RSS.

    This includes composing the demo scene (the camera's work), so it is an upper bound for
    the analysis alone.
    """
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "affectra.toml"
        config.write_text("[[cameras.sources]]\nid = \"demo\"\nkind = \"demo\"\nfps = 30.0\n"
                          "demo_cycle_s = 30.0\n[web]\nport = 0\n")
        state = Path(tmp) / "state"
        state.mkdir(mode=0o750)
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        proc = subprocess.Popen([sys.executable, "-m", "affectra_edge", "run", "--config",
                                 str(config), "--state-dir", str(state), "--log-level",
                                 "WARNING"], env=env)
        time.sleep(5.0)  # start-up and model loading are not what we measure
        ticks = os.sysconf("SC_CLK_TCK")
        cpu0, wall0 = _cpu_ticks(proc.pid) / ticks, time.monotonic()
        time.sleep(seconds)
        cpu1, wall1 = _cpu_ticks(proc.pid) / ticks, time.monotonic()
        hwm_kb = int(next(line.split()[1] for line in
                          Path(f"/proc/{proc.pid}/status").read_text().splitlines()
                          if line.startswith("VmHWM:")))
        proc.terminate()
        proc.wait(30)
    return {"seconds": seconds, "camera_fps": 30.0,
            "cpu_cores_used": round((cpu1 - cpu0) / (wall1 - wall0), 3),
            "peak_rss_mb": round(hwm_kb / 1024, 1)}


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def machine() -> dict:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import ai_edge_litert

    return {"platform": platform.platform(), "cpu": model, "cores": os.cpu_count(),
            "python": platform.python_version(), "numpy": np.__version__,
            "opencv": cv2.__version__,
            "ai_edge_litert": getattr(ai_edge_litert, "__version__", "unknown")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--out", type=Path, default=RESULTS / "pipeline.json")
    args = parser.parse_args()
    scenarios = {}
    for faces in (0, 1, 3):
        frames = make_frames(faces, args.frames)
        scenarios[f"{faces} face{'' if faces == 1 else 's'}"] = run_scenario(frames, 5.0)
        if faces == 3:
            scenarios["3 faces, classify every frame"] = run_scenario(frames, classify_hz=1000.0)
            scenarios["3 faces, paced at 30 fps"] = run_scenario(frames, 5.0, paced=True)
    result = {"benchmark": "pipeline", "date": datetime.now(UTC).isoformat(timespec="seconds"),
              "machine": machine(), "frame_size": [640, 480], "camera_fps": CAMERA_FPS,
              "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
              "scenarios": scenarios, "daemon_on_demo": measure_daemon()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    table = format_table(result)
    print(table)
    update_readme("pipeline", table)
    return 0


def format_table(result: dict) -> str:
    lines = ["| scenario | faces found | decode | detect | track | classify (mean) | "
             "frame (median / p95) | fps | cores used |", "|---|---|---|---|---|---|---|---|---|"]
    for name, s in result["scenarios"].items():
        st = s["stages_ms"]
        lines.append(
            f"| {name} | {s['faces_found_median']:g} | {st['decode']['median']:.2f} | "
            f"{st['detect']['median']:.2f} | {st['track']['median']:.3f} | "
            f"{st['classify']['mean']:.2f} | "
            f"{s['frame_ms']['median']:.2f} / {s['frame_ms']['p95']:.2f} ms | {s['fps']:.0f} | "
            f"{s['cpu_cores_used']:.2f} |")
    m = result["machine"]
    d = result["daemon_on_demo"]
    lines.append("")
    lines.append(f"The whole daemon (`affectra run`, demo scene at {d['camera_fps']:.0f} fps with up "
                 f"to 3 faces, scene composition included) over {d['seconds']:.0f} s: "
                 f"**{d['cpu_cores_used']:.2f} cores, peak RSS {d['peak_rss_mb']:.0f} MB**.")
    lines.append("")
    lines.append("Times in ms: stage medians, except classify, whose mean shows its cost spread "
                 "over frames (a face is classified at most 5 times a second by default). fps is "
                 "frames analysed per second running flat out (one thread); 'cores used' is "
                 "process CPU time / wall time, so 1.0 is one full core.")
    lines.append(f"Benchmark process peak RSS {result['peak_rss_mb']:.0f} MB. "
                 f"{m['cpu']}, {m['cores']} cores, Python {m['python']}, OpenCV {m['opencv']}, "
                 f"LiteRT {m['ai_edge_litert']}; {result['date']}.")
    return "\n".join(lines)


def update_readme(section: str, table: str) -> None:
    """Replace the text between this section's markers in bench/README.md."""
    readme = ROOT / "bench" / "README.md"
    begin, end = f"<!-- {section}:begin -->", f"<!-- {section}:end -->"
    text = readme.read_text() if readme.exists() else ""
    if begin not in text:
        text += f"\n{begin}\n{end}\n"
    head, rest = text.split(begin, 1)
    tail = rest.split(end, 1)[1]
    readme.write_text(f"{head}{begin}\n{table}\n{end}{tail}")


if __name__ == "__main__":
    sys.exit(main())
