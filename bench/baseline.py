"""Our pipeline against what users would otherwise do: DeepFace.analyze on every frame.

Both run on the same 640×480 frames (0, 1 and 3 real faces, written to bench/frames/) in the
same run, in alternating rounds (this VM is noisy), and we quote the median of the round
medians. DeepFace runs in its own venv (bench/.venv-deepface, TensorFlow) with emotion weights
of the right shapes but RANDOM values, because its weights cannot be downloaded here; speed
does not depend on the values. Times exclude JPEG decoding on both sides.

    make bench-baseline        # builds the DeepFace venv and weights, then runs this

Writes bench/results/baseline.json and the baseline table in bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pipeline import RESULTS, ROOT, machine, make_frames, update_readme  # noqa: E402

from affectra_edge.config import VisionConfig  # noqa: E402
from affectra_edge.vision.analyzer import build_analyzer  # noqa: E402

FRAMES_DIR = ROOT / "bench" / "frames"
DEEPFACE_PYTHON = ROOT / "bench" / ".venv-deepface" / "bin" / "python"
RUNNER = ROOT / "bench" / "deepface_runner.py"
WEIGHTS_NOTE = ("DeepFace ran with emotion weights of the right shapes but random values: its "
                "weights cannot be downloaded here, and speed does not depend on them")


def write_frames(faces: int, count: int) -> Path:
    folder = FRAMES_DIR / f"frames-{faces}faces"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.jpg"):
        old.unlink()
    for index, data in enumerate(make_frames(faces, count)):
        (folder / f"{index:04d}.jpg").write_bytes(data)
    return folder


def ours(folder: Path, classify_every_frame: bool) -> dict:
    """Median ms per frame of detect + track + classify, frames decoded beforehand."""
    images = [cv2.imread(str(p)) for p in sorted(folder.glob("*.jpg"))]
    analyzer = build_analyzer(VisionConfig(classify_hz=1000.0 if classify_every_frame else 5.0),
                              max_missed_s=2.0)
    analyzer.analyze(images[0], 0.0)
    times, faces = [], []
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for repeat in range(3):
        for index, image in enumerate(images):
            start = time.perf_counter()
            analysis = analyzer.analyze(image, 1.0 + (repeat * len(images) + index) / 30.0)
            times.append((time.perf_counter() - start) * 1000)
            faces.append(len(analysis.faces))
    cores = (time.process_time() - cpu0) / (time.perf_counter() - wall0)
    return {"median_ms": statistics.median(times), "faces": statistics.median(faces),
            "cores": cores}


def deepface(folder: Path) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run([str(DEEPFACE_PYTHON), str(RUNNER), "--frames", str(folder), "--out",
                        out.name, "--repeat", "2"], check=True, cwd=ROOT / "bench")
        report = json.loads(Path(out.name).read_text())
    return {"median_ms": report["analyze"]["median_ms"],
            "faces": statistics.median(report["faces_per_frame"].values()),
            "cores": report["cpu_time_share"], "peak_rss_mb": report["peak_rss_mb"],
            "versions": report["versions"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=30, help="frames per scene")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not DEEPFACE_PYTHON.exists():
        raise SystemExit("bench/.venv-deepface is missing: run bench/deepface_env.sh first")
    result_rows = {}
    versions = {}
    for faces in (0, 1, 3):
        folder = write_frames(faces, args.frames)
        rounds: dict[str, list[dict]] = {"ours": [], "ours_every_frame": [], "deepface": []}
        for _ in range(args.rounds):
            rounds["ours"].append(ours(folder, classify_every_frame=False))
            rounds["ours_every_frame"].append(ours(folder, classify_every_frame=True))
            rounds["deepface"].append(deepface(folder))
        versions = rounds["deepface"][-1]["versions"]
        row = {name: {"median_ms": round(statistics.median(r["median_ms"] for r in runs), 3),
                      "round_medians_ms": [round(r["median_ms"], 3) for r in runs],
                      "faces_found": runs[-1]["faces"],
                      "cores": round(statistics.median(r["cores"] for r in runs), 2)}
               for name, runs in rounds.items()}
        row["deepface"]["peak_rss_mb"] = rounds["deepface"][-1]["peak_rss_mb"]
        df = row["deepface"]["median_ms"]
        row["speedup"] = round(df / row["ours"]["median_ms"], 1)
        row["speedup_every_frame"] = round(df / row["ours_every_frame"]["median_ms"], 1)
        result_rows[f"{faces} face{'' if faces == 1 else 's'}"] = row
    result = {"benchmark": "baseline", "date": datetime.now(UTC).isoformat(timespec="seconds"),
              "machine": machine(), "deepface_versions": versions, "weights": WEIGHTS_NOTE,
              "frames_per_scene": args.frames, "rounds": args.rounds, "scenes": result_rows}
    (RESULTS / "baseline.json").write_text(json.dumps(result, indent=2) + "\n")
    table = format_table(result)
    print(table)
    update_readme("baseline", table)
    return 0


def format_table(result: dict) -> str:
    lines = ["| scene | ours (default) | ours (classify every frame) | DeepFace.analyze | "
             "DeepFace ÷ ours (default / every frame) | faces found (ours / DeepFace) | "
             "cores used (ours every frame / DeepFace) |",
             "|---|---|---|---|---|---|---|"]
    for name, row in result["scenes"].items():
        lines.append(
            f"| {name} | {row['ours']['median_ms']:.2f} ms | "
            f"{row['ours_every_frame']['median_ms']:.2f} ms | "
            f"{row['deepface']['median_ms']:.1f} ms | "
            f"{row['speedup']:.0f}× / {row['speedup_every_frame']:.0f}× | "
            f"{row['ours']['faces_found']:g} / {row['deepface']['faces_found']:g} | "
            f"{row['ours_every_frame']['cores']:.2f} / {row['deepface']['cores']:.2f} |")
    v = result["deepface_versions"]
    lines += ["", f"Median of {result['rounds']} alternating rounds, ms per 640×480 frame, "
              f"decode excluded. DeepFace {v.get('deepface')} on TensorFlow "
              f"{v.get('tensorflow')}, detector 'opencv' (its default). **{result['weights']}.** "
              f"{result['date']}."]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
