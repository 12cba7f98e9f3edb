"""Time DeepFace.analyze(frame, actions=["emotion"]) per frame: the baseline of
`make bench-baseline`, i.e. what users would otherwise do.

Run inside bench/.venv-deepface (bench/deepface_env.sh) after
bench/deepface_fake_weights.py has written DeepFace's emotion weights file with RANDOM
VALUES of the right shapes (DeepFace's weights cannot be downloaded here; speed does not
depend on them). Every figure this program writes says so.

Frames are decoded from disk first (timed on their own); then one warm-up call, then
`DeepFace.analyze(frame, actions=["emotion"], enforce_detection=False)` with DeepFace's
default detector (opencv Haar cascade) is timed per frame, --repeat times over the set.
Networking is blocked in this process: if DeepFace tried to download anything, the run
fails instead of measuring something else.

    bench/.venv-deepface/bin/python bench/deepface_runner.py \\
        --frames DIR --out bench/results/deepface-DIRNAME.json [--repeat 3]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

# Must run before DeepFace (or anything that could open a connection) is imported.
from deepface_fake_weights import (
    DEFAULT_DEEPFACE_HOME,
    WEIGHTS_NOTE,
    block_network,
    file_sha256,
    keras_of,
    marker_path,
    require_keras2,
    select_deepface,
    weights_path,
)

FRAME_SUFFIXES = {".png", ".jpg", ".jpeg"}
DETECTOR_BACKEND = "opencv"  # DeepFace.analyze's default


def list_frames(frames_dir: Path) -> list[Path]:
    frames = sorted(
        p for p in frames_dir.iterdir() if p.is_file() and p.suffix.lower() in FRAME_SUFFIXES
    )
    if not frames:
        raise SystemExit(f"no .png/.jpg/.jpeg frames in {frames_dir}")
    return frames


def decode_frames(paths: list[Path]) -> tuple[list[Any], list[float]]:
    """cv2.imread every frame (BGR, as DeepFace expects); return frames and ms per decode."""
    import cv2

    frames, decode_ms = [], []
    for path in paths:
        started = time.perf_counter()
        frame = cv2.imread(str(path), cv2.IMREAD_COLOR)
        decode_ms.append((time.perf_counter() - started) * 1000.0)
        if frame is None:
            raise SystemExit(f"cannot decode {path}")
        frames.append(frame)
    return frames, decode_ms


def count_faces(results: list[dict[str, Any]], frame: Any) -> int:
    """Faces DeepFace found. With enforce_detection=False and no face, DeepFace returns
    one result for the whole frame with face_confidence 0 (its region comes back as
    x=0, y=0, w=width-1, h=height-1); that one is not a face."""
    height, width = frame.shape[:2]
    found = 0
    for result in results:
        region = result.get("region", {})
        whole_frame = (
            region.get("x") == 0
            and region.get("y") == 0
            and region.get("w", 0) >= width - 1
            and region.get("h", 0) >= height - 1
        )
        if not (whole_frame and result.get("face_confidence", 0) == 0):
            found += 1
    return found


def percentile(values: list[float], fraction: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    lower = int(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def summarize_ms(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "median_ms": round(statistics.median(values), 3),
        "p95_ms": round(percentile(values, 0.95), 3),
        "mean_ms": round(statistics.fmean(values), 3),
        "min_ms": round(min(values), 3),
        "max_ms": round(max(values), 3),
    }


def cpu_model() -> str:
    """'model name' on x86, 'Model' (the board) on a Raspberry Pi, else platform's guess."""
    fields: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, sep, value = line.partition(":")
            if sep:
                fields.setdefault(key.strip().lower(), value.strip())
    except OSError:
        pass
    for key in ("model name", "hardware", "model"):
        if fields.get(key) and not fields[key].isdigit():
            return fields[key]
    return platform.processor() or "unknown"


def machine_info() -> dict[str, Any]:
    return {
        "machine": platform.machine(),
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "hostname": platform.node(),
    }


def versions() -> dict[str, str]:
    import cv2
    import deepface
    import numpy
    import tensorflow
    import tf_keras

    return {
        "python": platform.python_version(),
        "deepface": deepface.__version__,
        "tensorflow": tensorflow.__version__,
        "tf_keras": tf_keras.__version__,
        "opencv": cv2.__version__,
        "numpy": numpy.__version__,
    }


def time_analyze(
    deepface: Any, paths: list[Path], frames: list[Any], repeat: int
) -> dict[str, Any]:
    """One warm-up call, then DeepFace.analyze on every frame, `repeat` passes."""
    started = time.perf_counter()
    deepface.analyze(frames[0], actions=["emotion"], enforce_detection=False)
    warmup_ms = (time.perf_counter() - started) * 1000.0

    analyze_ms: list[float] = []
    frame_ms: dict[str, list[float]] = {path.name: [] for path in paths}
    faces: dict[str, list[int]] = {path.name: [] for path in paths}
    cpu_started, wall_started = time.process_time(), time.perf_counter()
    for _ in range(repeat):
        for path, frame in zip(paths, frames, strict=True):
            started = time.perf_counter()
            results = deepface.analyze(frame, actions=["emotion"], enforce_detection=False)
            analyze_ms.append((time.perf_counter() - started) * 1000.0)
            frame_ms[path.name].append(analyze_ms[-1])
            faces[path.name].append(count_faces(results, frame))
    cpu_s = time.process_time() - cpu_started
    wall_s = time.perf_counter() - wall_started
    return {
        "warmup_ms": warmup_ms,
        "analyze_ms": analyze_ms,
        "frame_ms": frame_ms,
        "faces": faces,
        "cpu_time_share": cpu_s / wall_s,
    }


def check_random_weights(deepface_home: Path) -> dict[str, Any]:
    """The report says the weights are random; make sure the file is the random one."""
    weights, marker = weights_path(deepface_home), marker_path(deepface_home)
    fix = "run bench/.venv-deepface/bin/python bench/deepface_fake_weights.py"
    if not (weights.is_file() and marker.is_file()):
        raise SystemExit(f"{weights} or its random-values marker is missing; {fix}")
    recorded = json.loads(marker.read_text())
    if file_sha256(weights) != recorded["sha256"]:
        raise SystemExit(f"{weights} is not the random-values file its marker describes; {fix}")
    return recorded


def run(args: argparse.Namespace) -> dict[str, Any]:
    network_attempts = block_network()
    deepface_home = args.deepface_home.resolve()
    marker = check_random_weights(deepface_home)
    select_deepface(deepface_home)

    paths = list_frames(args.frames)
    frames, decode_ms = decode_frames(paths)
    started = time.perf_counter()
    from deepface import DeepFace

    import_s = time.perf_counter() - started
    timed = time_analyze(DeepFace, paths, frames, args.repeat)
    emotion_model = DeepFace.build_model(task="facial_attribute", model_name="Emotion").model
    require_keras2(emotion_model)
    if network_attempts:
        raise SystemExit(f"DeepFace tried the network, results discarded: {network_attempts}")

    faces_per_frame = {name: counts[0] for name, counts in timed["faces"].items()}
    analyze = summarize_ms(timed["analyze_ms"])
    return {
        "benchmark": "deepface_baseline",
        "call": 'DeepFace.analyze(frame, actions=["emotion"], enforce_detection=False)',
        "detector_backend": DETECTOR_BACKEND,
        "backend_engine": os.environ["DEEPFACE_BACKEND_ENGINE"],
        "weights": WEIGHTS_NOTE,
        "weights_file": {"path": str(weights_path(deepface_home)), "sha256": marker["sha256"]},
        "frames_dir": str(args.frames.resolve()),
        "frames": len(paths),
        "frame_size": sorted({f"{f.shape[1]}x{f.shape[0]}" for f in frames}),
        "repeat": args.repeat,
        "analyze": analyze,
        "fps": round(1000.0 / analyze["median_ms"], 2),
        "decode": summarize_ms(decode_ms),
        "warmup_ms": round(timed["warmup_ms"], 1),
        "import_s": round(import_s, 2),
        "faces_per_frame": faces_per_frame,
        "faces_total": sum(faces_per_frame.values()),
        "faces_consistent_across_repeats": all(
            len(set(counts)) == 1 for counts in timed["faces"].values()
        ),
        "median_ms_per_frame": {
            name: round(statistics.median(values), 3) for name, values in timed["frame_ms"].items()
        },
        "cpu_time_share": round(timed["cpu_time_share"], 3),
        "cpu_time_share_note": "process CPU time / wall time over the timed calls; "
        f"can reach cpu_count ({os.cpu_count()})",
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
        "versions": {**versions(), "emotion_model_keras": keras_of(emotion_model)},
        "machine": machine_info(),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }


def write_json(report: dict[str, Any], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    partial.write_text(json.dumps(report, indent=2) + "\n")
    os.replace(partial, out)


def summary_line(report: dict[str, Any]) -> str:
    analyze, counts = report["analyze"], sorted(set(report["faces_per_frame"].values()))
    return (
        f"deepface {report['versions']['deepface']} / tensorflow "
        f"{report['versions']['tensorflow']} on {Path(report['frames_dir']).name} "
        f"({report['frames']} frames x {report['repeat']}): "
        f"median {analyze['median_ms']:.1f} ms, p95 {analyze['p95_ms']:.1f} ms, "
        f"{report['fps']:.1f} fps, faces/frame {','.join(map(str, counts))}, "
        f"decode {report['decode']['median_ms']:.1f} ms, cpu {report['cpu_time_share']:.2f}, "
        f"peak RSS {report['peak_rss_mb']:.0f} MB; weights: {report['weights']}"
    )


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=Path, required=True, help="directory of PNG/JPEG frames")
    parser.add_argument("--out", type=Path, required=True, help="JSON file to write")
    parser.add_argument("--repeat", type=int, default=3, help="passes over the frames (default 3)")
    parser.add_argument(
        "--deepface-home",
        type=Path,
        default=DEFAULT_DEEPFACE_HOME,
        help=f"DEEPFACE_HOME holding the random weights (default {DEFAULT_DEEPFACE_HOME})",
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if not args.frames.is_dir():
        parser.error(f"--frames {args.frames} is not a directory")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    report = run(args)
    write_json(report, args.out)
    print(summary_line(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
