"""MQTT: how long from a session's end to a subscriber, and does a dead broker slow the camera?

One in-process daemon with real models, a real Mosquitto (Debian's) on loopback and a
subscriber in this process (same clock):

* latency: sessions are handed to the daemon as the session tracker hands them over
  (``Daemon._session_ended``), 20 per second; each is written to the CSV file (with fsync),
  then published (QoS 1). We time from hand-over to the subscriber's receipt.
* fps: the camera (a 30 fps video of viewers coming and going) is analysed frame by frame;
  analysed fps and the daemon's CPU use are measured in alternating windows with the broker
  up, stopped (connections refused: the publisher retries and queues) and frozen with
  SIGSTOP (it holds the connection and answers nothing, like a hung box), while sessions
  keep ending (5 per second, on top of the video's own).

    .venv/bin/python bench/mqtt.py [--sessions 300] [--window 8] [--rounds 3]

Writes bench/results/mqtt.json and the mqtt table in bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import signal
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from pipeline import RESULTS, machine, update_readme  # noqa: E402

from affectra_edge.cameras.scene import Appearance  # noqa: E402
from affectra_edge.config import config_from_dict  # noqa: E402
from affectra_edge.daemon import Daemon  # noqa: E402
from affectra_edge.emotions import EMOTIONS  # noqa: E402
from affectra_edge.records import SessionRecord  # noqa: E402
from tests.conftest import write_video  # noqa: E402
from tests.mqtt_broker import Broker, Recorder  # noqa: E402


def record() -> SessionRecord:
    now = datetime.now(UTC)
    shares = {e: 0.0 for e in EMOTIONS}
    shares["happy"], shares["neutral"] = 70.0, 30.0
    return SessionRecord(uuid.uuid4().hex[:8], "hall", now - timedelta(seconds=4), now, 4.0,
                         40, "happy", shares)


class SessionFeed:
    """Hands sessions to the daemon at ``rate`` per second and notes when each went in."""

    def __init__(self, daemon: Daemon, rate: float):
        self.daemon, self.rate = daemon, rate
        self.handed: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> SessionFeed:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(1.0 / self.rate):
            rec = record()
            self.handed[rec.session_id] = time.monotonic()
            self.daemon._session_ended(rec)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure_latency(daemon: Daemon, recorder: Recorder, topic: str, count: int) -> dict:
    received: dict[str, float] = {}
    recorder.client.on_message = lambda _c, _u, m: received.setdefault(
        json.loads(m.payload)["session_id"], time.monotonic())
    feed = SessionFeed(daemon, 20.0).start()
    while len(feed.handed) < count:
        time.sleep(0.1)
    feed.stop()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not set(feed.handed) <= set(received):
        time.sleep(0.05)
    ms = [(received[s] - t) * 1000 for s, t in feed.handed.items() if s in received]
    assert recorder.client.subscribe(topic)
    return {"sessions": len(feed.handed), "received": len(ms),
            "median_ms": round(statistics.median(ms), 2), "p99_ms": round(percentile(ms, 0.99), 2),
            "max_ms": round(max(ms), 2)}


def analysed_fps(daemon: Daemon, window_s: float) -> tuple[float, float]:
    """Analysed frames per second and CPU cores used by the whole process over a window."""
    pipeline = daemon.supervisor.pipeline("hall")
    frames, start, cpu = pipeline.frames_analysed, time.monotonic(), time.process_time()
    time.sleep(window_s)
    elapsed = time.monotonic() - start
    return ((pipeline.frames_analysed - frames) / elapsed,
            (time.process_time() - cpu) / elapsed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=300)
    parser.add_argument("--window", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        scene = [Appearance(0.2, 1.6, 0.35, 0.5, 140), Appearance(2.0, 3.4, 0.65, 0.5, 130)]
        video = write_video(root / "hall.avi", scene, 4.0, fps=30)
        broker = Broker(root / "broker").start()
        state = root / "state"
        state.mkdir(mode=0o750)
        config = config_from_dict({
            "device": {"id": "bench"},
            "cameras": {"active": "hall", "sources": [
                {"id": "hall", "kind": "file", "source": str(video), "loop": True}]},
            "sessions": {"min_dwell_s": 0.2, "absence_timeout_s": 0.3},
            "storage": {"state_dir": str(state)}, "web": {"enabled": False},
            "logging": {"level": "WARNING"},
            "mqtt": {"host": "127.0.0.1", "port": broker.port, "reconnect_max_s": 2}})
        daemon = Daemon(config)
        daemon.start()
        recorder = Recorder(broker, "affectra/bench/session")
        try:
            time.sleep(3.0)
            latency = measure_latency(daemon, recorder, "affectra/bench/session", args.sessions)
            recorder.close()
            feed = SessionFeed(daemon, 5.0).start()
            up, down, frozen = [], [], []
            for _ in range(args.rounds):
                up.append(analysed_fps(daemon, args.window))
                broker.stop()  # connections are refused at once
                time.sleep(1.0)
                down.append(analysed_fps(daemon, args.window))
                broker.start()
                time.sleep(3.0)  # reconnect (backoff at most 2 s)
                broker.process.send_signal(signal.SIGSTOP)  # accepts, answers nothing
                time.sleep(1.0)
                frozen.append(analysed_fps(daemon, args.window))
                broker.process.send_signal(signal.SIGCONT)
                time.sleep(3.0)
            feed.stop()
            mqtt_state = daemon.mqtt_status()
        finally:
            daemon.shutdown()
            broker.stop()
    fps = {"broker_up": [round(v[0], 2) for v in up],
           "broker_down": [round(v[0], 2) for v in down],
           "median_up": round(statistics.median(v[0] for v in up), 2),
           "median_down": round(statistics.median(v[0] for v in down), 2),
           "broker_frozen": [round(v[0], 2) for v in frozen],
           "median_frozen": round(statistics.median(v[0] for v in frozen), 2),
           "cores_up": round(statistics.median(v[1] for v in up), 3),
           "cores_down": round(statistics.median(v[1] for v in down), 3),
           "cores_frozen": round(statistics.median(v[1] for v in frozen), 3)}
    fps["down_vs_up"] = round(fps["median_down"] / fps["median_up"], 3)
    fps["frozen_vs_up"] = round(fps["median_frozen"] / fps["median_up"], 3)
    result = {"benchmark": "mqtt", "date": datetime.now(UTC).isoformat(timespec="seconds"),
              "machine": machine(), "latency": latency, "fps": fps,
              "window_s": args.window, "rounds": args.rounds,
              "publisher_after": {k: mqtt_state.get(k) for k in
                                  ("state", "sent_sessions", "pending_sessions",
                                   "dropped_sessions")}}
    (RESULTS / "mqtt.json").write_text(json.dumps(result, indent=2) + "\n")
    table = "\n".join([
        "| measure | value |", "|---|---|",
        f"| session end -> subscriber, median | {latency['median_ms']:.1f} ms |",
        f"| session end -> subscriber, p99 | {latency['p99_ms']:.1f} ms |",
        f"| sessions timed | {latency['received']} of {latency['sessions']} |",
        f"| analysed fps, broker up (median of {args.rounds}) | {fps['median_up']:.1f} |",
        f"| analysed fps, broker stopped (median of {args.rounds}) | {fps['median_down']:.1f} |",
        f"| analysed fps, broker frozen (median of {args.rounds}) | "
        f"{fps['median_frozen']:.1f} |",
        f"| stopped / up, frozen / up | {fps['down_vs_up']:.3f}, {fps['frozen_vs_up']:.3f} |",
        f"| CPU cores, broker up / stopped / frozen (medians) | {fps['cores_up']:.3f} / "
        f"{fps['cores_down']:.3f} / {fps['cores_frozen']:.3f} |",
        "",
        "Session end -> subscriber includes the CSV write with fsync and a QoS 1 publish through "
        f"Mosquitto on loopback; 20 sessions/s. fps: {args.window:g} s windows alternating, "
        f"a 30 fps video camera, 5 sessions/s ending meanwhile. "
        f"{result['machine']['cpu']}, {result['machine']['cores']} cores; {result['date']}."])
    print(table)
    update_readme("mqtt", table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
