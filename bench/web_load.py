"""Web API under load: latency of /api/stats and /api/live.jpg with 50 clients at once.

An in-process daemon runs the pipeline on the demo source (real models) and serves the web UI
with its own Waitress on a free loopback port, with 10,000 recorded sessions spread over the
last 30 days in its store. A separate client process (so the clients do not share the
daemon's GIL) runs 50 threads, each with its own keep-alive ``http.client.HTTPConnection``
carrying the admin's session cookie, requesting flat out (closed loop, no think time) for a
fixed time after a short warm-up; per-request latency is taken with ``time.perf_counter``
around request and full body read. Meanwhile the daemon's analysis fps is sampled to show the
pipeline keeps running. Runs: stats alone, live alone, both at once (half the clients each),
and one client on stats alone for the service time without queueing.

    .venv/bin/python bench/web_load.py [--duration 15] [--clients 50] [--web-threads 8]

Writes bench/results/http.json and the http table in bench/README.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and this file would shadow the
# standard library's ``http`` package (http.client, used by Bottle, Waitress and us).
BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]
sys.path.insert(0, str(ROOT))

import argparse
import http.client
import json
import logging
import random
import resource
import subprocess
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta

STATS, LIVE = "/api/stats", "/api/live.jpg"
SESSIONS = 10_000
DAYS = 30
WARMUP_S = 2.0
MAX_REQUESTS_PER_CLIENT = 50_000  # a bound on memory and count; never reached in practice
PASSWORD = "bench horse battery staple"
GOAL_STATS_P99_MS = 50.0


# -- the client process (standard library only) ---------------------------------------------
def client_loop(port: int, cookie: str, path: str, warmup_end: float, end: float,
                stop: threading.Event, out: dict) -> None:
    """Request ``path`` on one keep-alive connection until ``end``; record after warm-up."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Cookie": cookie}
    latencies, errors, reconnects, body_bytes = [], 0, 0, 0
    while not stop.is_set() and len(latencies) < MAX_REQUESTS_PER_CLIENT:
        start = time.perf_counter()
        if start >= end:
            break
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            body = response.read()
            took_ms = (time.perf_counter() - start) * 1000
            ok = response.status == 200 and body and (
                body[:1] == b"{" if path == STATS else body[:2] == b"\xff\xd8")
            reconnects += response.will_close
            body_bytes = len(body)
        except (OSError, http.client.HTTPException):
            ok, took_ms = False, 0.0
            conn.close()
        if ok and start >= warmup_end:
            latencies.append(took_ms)
        elif not ok:
            errors += start >= warmup_end
            stop.wait(0.05)  # do not spin on a broken server
    conn.close()
    out.update(path=path, latencies_ms=latencies, errors=errors, reconnects=reconnects,
               body_bytes=body_bytes)


def run_clients(port: int, cookie: str, paths: list[str], clients: int,
                duration_s: float) -> dict:
    """``clients`` threads, client i on ``paths[i % len(paths)]``; results per path."""
    stop = threading.Event()
    warmup_end = time.perf_counter() + WARMUP_S
    end = warmup_end + duration_s
    outs = [{} for _ in range(clients)]
    threads = [threading.Thread(target=client_loop, name=f"client-{i}", daemon=True,
                                args=(port, cookie, paths[i % len(paths)], warmup_end, end,
                                      stop, outs[i]))
               for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, end - time.perf_counter()) + 15.0)
    stop.set()
    result = {path: {"latencies_ms": [], "errors": 0, "reconnects": 0, "clients": 0,
                     "body_bytes": 0} for path in paths}
    for out in outs:
        if not out:  # a thread that never finished: count it, do not wait for it
            continue
        merged = result[out["path"]]
        merged["latencies_ms"] += [round(v, 3) for v in out["latencies_ms"]]
        merged["errors"] += out["errors"]
        merged["reconnects"] += out["reconnects"]
        merged["clients"] += 1
        merged["body_bytes"] = max(merged["body_bytes"], out["body_bytes"])
    return {"duration_s": duration_s, "by_path": result}


# -- the daemon side ---------------------------------------------------------------------------
class QueueWarnings(logging.Handler):
    """Counts Waitress's "Task queue depth is N" warnings (a request waited for a worker
    thread) instead of printing thousands of them."""

    def __init__(self) -> None:
        super().__init__()
        self.count = self.max_depth = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        if record.args and isinstance(record.args[0], int):
            self.max_depth = max(self.max_depth, record.args[0])

    def take(self) -> dict:
        taken = {"warnings": self.count, "max_depth": self.max_depth}
        self.count = self.max_depth = 0
        return taken


def realistic_record(rng: random.Random, ended: datetime):
    """A session as the pipeline would record it: mixed shares, the largest one dominant."""
    from affectra_edge.emotions import EMOTIONS
    from affectra_edge.records import SessionRecord

    prior = {"neutral": 3.0, "happy": 2.5, "surprise": 1.0, "sad": 0.8, "angry": 0.4,
             "fear": 0.3, "disgust": 0.2}
    favourite = rng.choices(list(prior), weights=list(prior.values()))[0]
    weights = {e: rng.gammavariate(0.5, 1.0) + (3.0 if e == favourite else 0.0)
               for e in EMOTIONS}
    total = sum(weights.values())
    cents = {e: round(w * 10000 / total) for e, w in weights.items()}
    top = max(cents, key=cents.get)
    cents[top] += 10000 - sum(cents.values())
    duration_s = min(600.0, max(1.5, rng.lognormvariate(2.5, 0.9)))
    return SessionRecord(f"{rng.getrandbits(128):032x}", "demo",
                         ended - timedelta(seconds=duration_s), ended, round(duration_s, 3),
                         int(duration_s * 15), top, {e: c / 100 for e, c in cents.items()})


def seed_sessions(sessions_dir: Path, count: int, days: int, now: datetime) -> None:
    """Write ``count`` sessions ending over the last ``days`` days straight into the daily
    CSV files (the store's own format), instead of ``count`` fsynced appends."""
    from affectra_edge.storage import (
        DIR_MODE,
        FILE_MODE,
        HEADER,
        SessionStore,
        format_row,
    )

    rng = random.Random(20261125)
    rows: dict[Path, list[str]] = {}
    store = SessionStore(sessions_dir, 365)
    for _ in range(count):
        ended = now - timedelta(seconds=rng.uniform(60.0, days * 86400.0))
        record = realistic_record(rng, ended)
        rows.setdefault(store.path_for(ended.date()), []).append(format_row(record))
    sessions_dir.mkdir(mode=DIR_MODE)
    for path, lines in rows.items():
        path.write_text(HEADER + "".join(sorted(lines, key=lambda r: r.split(",")[3])))
        path.chmod(FILE_MODE)


def recompute_cost_ms(sessions_dir: Path) -> float:
    """What one statistics recompute (read 10,000 rows and compute) costs: what each request
    would cost if the daemon did not cache."""
    from affectra_edge.stats import compute_stats
    from affectra_edge.storage import SessionStore

    store = SessionStore(sessions_dir, 365)
    times = []
    for _ in range(3):
        start = time.perf_counter()
        compute_stats(store.read(), datetime.now(UTC))
        times.append((time.perf_counter() - start) * 1000)
    return sorted(times)[1]


def log_in(port: int) -> str:
    """Log in through the form as a person would; the session cookie header."""
    from affectra_edge.webapp.app import SESSION_COOKIE
    from tests.webclient import WebClient

    client = WebClient(port)
    token = client.form_token("/login")
    reply = client.form("/login", {"csrf_token": token, "password": PASSWORD})
    if reply.status != 303 or SESSION_COOKIE not in client.cookies:
        raise SystemExit(f"login failed: {reply.status} {reply.text[:200]}")
    cookie = f"{SESSION_COOKIE}={client.cookies[SESSION_COOKIE]}"
    if client.get(STATS).status != 200 or client.get(LIVE).status != 200:
        raise SystemExit("the API does not answer after login")
    return cookie


def wait_for_live(daemon, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        pipelines = daemon.supervisor.pipelines
        if pipelines and pipelines[0].live_jpeg is not None and pipelines[0].analysis_fps() > 0:
            return
        daemon.stop_event.wait(0.2)
    raise SystemExit("the demo pipeline produced no live image")


def sample_fps(daemon, done: threading.Event, start_after_s: float, out: list) -> None:
    """The first pipeline's analysis rate every 0.5 s until ``done``."""
    if done.wait(start_after_s):
        return
    while not done.wait(0.5):
        out.append(daemon.supervisor.pipelines[0].analysis_fps())


def measured_run(daemon, queue: QueueWarnings, port: int, cookie: str, paths: list[str],
                 clients: int, duration_s: float) -> dict:
    """One load run in a child process while a thread samples the pipeline's analysis rate."""
    command = [sys.executable, str(Path(__file__).resolve()), "--load", str(port), cookie,
               ",".join(paths), str(clients), str(duration_s)]
    fps, done, sessions_before = [], threading.Event(), daemon.sessions_today
    sampler = threading.Thread(target=sample_fps, args=(daemon, done, WARMUP_S + 0.5, fps),
                               name="fps-sampler", daemon=True)
    children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu0, wall0 = time.process_time(), time.monotonic()
    queue.take()
    sampler.start()
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as proc:
        try:  # read while it runs: its JSON is larger than a pipe's buffer
            output, _ = proc.communicate(timeout=WARMUP_S + duration_s + 60)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise SystemExit("the load process did not finish in time") from None
        finally:
            done.set()
            sampler.join()
    wall = time.monotonic() - wall0
    children1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"the load process failed ({proc.returncode})")
    result = json.loads(output)
    client_cpu = (children1.ru_utime + children1.ru_stime
                  - children0.ru_utime - children0.ru_stime)
    result.update(analysis_fps=fps, wall_s=round(wall, 1), waitress_queue=queue.take(),
                  sessions_ended=daemon.sessions_today - sessions_before,
                  daemon_cores=round((time.process_time() - cpu0) / wall, 2),
                  client_cores=round(client_cpu / wall, 2))
    return result


def summarise(run: dict, name: str, clients: int) -> dict:
    import numpy as np

    fps = run["analysis_fps"] or [0.0]
    endpoints = {}
    for path, data in run["by_path"].items():
        values = np.array(data["latencies_ms"] or [float("nan")])
        endpoints[path] = {
            "clients": data["clients"], "requests": len(data["latencies_ms"]),
            "requests_per_s": round(len(data["latencies_ms"]) / run["duration_s"], 1),
            "errors": data["errors"], "server_closed_connections": data["reconnects"],
            "body_bytes": data["body_bytes"],
            **{f"p{q}_ms": round(float(np.percentile(values, q)), 2) for q in (50, 90, 99)},
            "max_ms": round(float(values.max()), 2)}
    return {"name": name, "clients": clients, "duration_s": run["duration_s"],
            "endpoints": endpoints,
            "analysis_fps": {"median": round(float(np.median(fps)), 1),
                             "min": round(float(min(fps)), 1), "samples": len(fps)},
            "sessions_ended": run["sessions_ended"], "waitress_queue": run["waitress_queue"],
            "daemon_cores": run["daemon_cores"], "client_cores": run["client_cores"],
            "wall_s": run["wall_s"]}


def run_benchmark(args: argparse.Namespace) -> dict:
    from affectra_edge.config import config_from_dict
    from affectra_edge.daemon import Daemon
    from affectra_edge.webapp.auth import Accounts

    scenarios = [("stats", [STATS], args.clients), ("live", [LIVE], args.clients),
                 ("mixed", [STATS, LIVE], args.clients), ("stats, 1 client", [STATS], 1)]
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp) / "state"
        state.mkdir(mode=0o750)
        seed_sessions(state / "sessions", SESSIONS, DAYS, datetime.now(UTC))
        recompute_ms = recompute_cost_ms(state / "sessions")
        config = config_from_dict({"storage": {"state_dir": str(state)},
                                   "web": {"host": "127.0.0.1", "port": 0,
                                           "threads": args.web_threads},
                                   "logging": {"level": "WARNING"}})
        Accounts(state).set_password(PASSWORD)  # no first-run code in the output
        queue = QueueWarnings()
        waitress_queue = logging.getLogger("waitress.queue")
        waitress_queue.addHandler(queue)
        waitress_queue.propagate = False
        waitress_queue.setLevel(logging.WARNING)  # the daemon quiets it; here we count it
        daemon = Daemon(config)
        daemon.start()
        try:
            wait_for_live(daemon)
            port = daemon.web.port
            cookie = log_in(port)
            sessions_total = daemon.stats.get()["sessions_total"]
            runs = [summarise(measured_run(daemon, queue, port, cookie, paths, clients,
                                           args.duration), name, clients)
                    for name, paths, clients in scenarios]
        finally:
            daemon.shutdown()
    return {"config": config, "recompute_ms": recompute_ms, "sessions_total": sessions_total,
            "runs": runs}


def table(result: dict) -> str:
    lines = [("| run | clients | endpoint | requests/s | p50 | p90 | p99 | max | errors "
              "| analysis fps (median / min) | queue warnings (max depth) |"),
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for run in result["runs"]:
        fps, queue = run["analysis_fps"], run["waitress_queue"]
        for path, e in run["endpoints"].items():
            lines.append(f"| {run['name']} | {e['clients']} | `{path}` | "
                         f"{e['requests_per_s']:.0f} | {e['p50_ms']:.1f} | {e['p90_ms']:.1f} | "
                         f"{e['p99_ms']:.1f} | {e['max_ms']:.1f} | {e['errors']} | "
                         f"{fps['median']:.1f} / {fps['min']:.1f} | "
                         f"{queue['warnings']:,} ({queue['max_depth']}) |")
    first = result["runs"][0]
    stats_p99 = first["endpoints"][STATS]["p99_ms"]
    verdict = "met" if stats_p99 <= GOAL_STATS_P99_MS else "NOT met"
    w, m, v = result["web"], result["machine"], result["versions"]
    sizes = {path: e["body_bytes"] for run in result["runs"] for path, e in run["endpoints"].items()}
    lines += ["", " ".join([
        "Latency in ms, client side (request sent to body read), each client on its own",
        "keep-alive connection, closed loop without think time (so mean latency ≈ clients ÷",
        f"requests/s), {result['duration_s']:g} s per run after {WARMUP_S:g} s of warm-up;",
        f"the clients run in a process of their own on the same {m['cores']} cores.",
        f"**Goal stats p99 ≤ {GOAL_STATS_P99_MS:g} ms with {first['clients']} clients:",
        f"{verdict} ({stats_p99:.1f} ms).** {result['sessions_total']:,} sessions in the store;",
        f"one recompute of the statistics takes {result['recompute_ms']:.0f} ms, requests read",
        "the cached result. 'Queue warnings' are Waitress's 'Task queue depth is N' log lines",
        "(a request waited for a free worker thread), counted here instead of printed.",
        f"Bodies: stats {sizes.get(STATS, 0) / 1024:.1f} KB of JSON, live",
        f"{sizes.get(LIVE, 0) / 1024:.1f} KB of JPEG. Daemon process CPU in the first run",
        f"{first['daemon_cores']:.2f} cores, clients {first['client_cores']:.2f};",
        f"{sum(r['sessions_ended'] for r in result['runs'])} session(s) ended (each one",
        "recomputes the statistics in the background) during the runs.",
        f"Waitress {v['waitress']} with {w['threads']} threads, Bottle {v['bottle']}; live",
        f"image every {1 / w['live_fps']:g} s, demo camera at {w['camera_fps']:g} fps.",
        f"{m['cpu']}, Python {m['python']}; {result['date']}."])]
    return "\n".join(lines)


def main() -> int:
    if len(sys.argv) == 7 and sys.argv[1] == "--load":  # the client process
        port, cookie, paths, clients, duration = sys.argv[2:]
        print(json.dumps(run_clients(int(port), cookie, paths.split(","), int(clients),
                                     float(duration))))
        return 0
    from affectra_edge.config import WebConfig

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per run")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--web-threads", type=int, default=WebConfig().threads,
                        help="Waitress worker threads (web.threads, default %(default)s)")
    args = parser.parse_args()

    from importlib.metadata import version

    from bench.pipeline import RESULTS, machine, update_readme

    measured = run_benchmark(args)
    config = measured.pop("config")
    result = {"benchmark": "http", "date": datetime.now(UTC).isoformat(timespec="seconds"),
              "machine": machine(), "versions": {"bottle": version("bottle"),
                                                 "waitress": version("waitress")},
              "duration_s": args.duration, "warmup_s": WARMUP_S, "keep_alive": True,
              "web": {"threads": config.web.threads, "live_fps": config.web.live_fps,
                      "camera_fps": config.cameras.sources[0].fps},
              "goal_stats_p99_ms": GOAL_STATS_P99_MS, **measured}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "http.json").write_text(json.dumps(result, indent=2) + "\n")
    text = table(result)
    print(text)
    update_readme("http", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
