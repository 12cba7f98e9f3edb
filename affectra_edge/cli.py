"""The ``affectra`` command: run the sensor, check a config, analyse a file, show statistics.

Bad input (a missing file, an invalid config, an unsafe state dir) is one clear line on
stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from affectra_edge import __version__
from affectra_edge.config import Config, ConfigError, load_config
from affectra_edge.logs import redact, setup_logging, under_systemd

if TYPE_CHECKING:  # imported where used: each command loads only what it needs
    from affectra_edge.storage import SessionStore

log = logging.getLogger("affectra_edge")

SYSTEM_CONFIG = Path("/etc/affectra/affectra.toml")
EXIT_BAD_INPUT = 2


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="affectra", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"affectra {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="FILE",
                        help=f"TOML config (default: $AFFECTRA_CONFIG, else {SYSTEM_CONFIG} "
                             "if it exists, else built-in defaults)")
    common.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    state = argparse.ArgumentParser(add_help=False)
    state.add_argument("--state-dir", metavar="DIR", help="overrides storage.state_dir")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("run", parents=[common, state], help="run the sensor until stopped")
    sub.add_parser("check-config", parents=[common], help="validate a config file and exit")
    analyze = sub.add_parser("analyze", parents=[common],
                             help="print faces and emotions found in a photo or video")
    analyze.add_argument("path", metavar="PHOTO_OR_VIDEO")
    analyze.add_argument("--json", action="store_true", help="print JSON lines")
    test = sub.add_parser("test-camera", parents=[common],
                          help="connect to a camera, grab frames, report what came (saves nothing)")
    test.add_argument("source", metavar="SOURCE",
                      help="URL (http://, rtsp://), webcam index or /dev/video*, or a file")
    test.add_argument("--kind", choices=["mjpeg", "rtsp", "webcam", "file"],
                      help="default: guessed from SOURCE")
    test.add_argument("--mode", choices=["stream", "capture"], default="stream",
                      help="for MJPEG: a multipart stream, or polling a single-JPEG URL")
    test.add_argument("--timeout", type=float, default=5.0, metavar="SECONDS",
                      help="connect and stall timeout (default 5)")
    sub.add_parser("set-password", parents=[common, state],
                   help="set the web UI's admin password (asked twice)")
    stats = sub.add_parser("stats", parents=[common, state],
                           help="print statistics of the recorded sessions")
    stats.add_argument("--json", action="store_true", help="print JSON")
    status = sub.add_parser("status", parents=[common, state],
                            help="ask the running daemon how it is")
    status.add_argument("--json", action="store_true", help="print JSON")
    clear = sub.add_parser("clear", parents=[common, state],
                           help="delete every recorded session (asks the running daemon)")
    clear.add_argument("--yes", action="store_true", help="really delete them")
    return parser


def resolve_config(args: argparse.Namespace) -> Config:
    path = args.config or os.environ.get("AFFECTRA_CONFIG")
    if path is None and SYSTEM_CONFIG.exists():
        path = str(SYSTEM_CONFIG)
    config = load_config(path)
    if getattr(args, "state_dir", None):
        config.storage.state_dir = args.state_dir
    if args.log_level:
        config.logging.level = args.log_level
    return config


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    quiet = args.command != "run"
    setup_logging(args.log_level or ("WARNING" if quiet else "INFO"))
    try:
        config = resolve_config(args)
        if not quiet:
            setup_logging(config.logging.level)
        return COMMANDS[args.command](args, config)
    except ConfigError as exc:
        for line in exc.errors:
            print_error(f"affectra: config error: {line}")
        return EXIT_BAD_INPUT
    except UsageError as exc:
        print_error(f"affectra: error: {exc}")
        return EXIT_BAD_INPUT


def print_error(line: str) -> None:
    """One line on stderr; under systemd with the journal's "error" priority prefix."""
    print(("<3>" if under_systemd() else "") + redact(line), file=sys.stderr)


def cmd_check_config(args: argparse.Namespace, config: Config) -> int:
    where = config.source_file or "built-in defaults"
    cameras = ", ".join(f"{c.id} ({c.kind})" for c in config.cameras.sources)
    print(f"{where}: OK (device {config.device.id}; cameras: {cameras}; "
          f"active: {config.cameras.active})")
    return 0


def cmd_run(args: argparse.Namespace, config: Config) -> int:
    from affectra_edge.control import ControlError, StateDirBusy
    from affectra_edge.daemon import Daemon, WebError
    from affectra_edge.security import UnsafeStateDir
    from affectra_edge.vision.errors import ModelError

    daemon = Daemon(config)

    def request_stop(*_: object) -> None:
        # Event.set() takes a lock the interrupted main thread may hold: set it elsewhere.
        threading.Thread(target=daemon.stop_event.set, name="stop").start()

    # Before starting: a stop asked for while models load still ends in a clean shutdown.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, request_stop)
    try:
        daemon.start()
    except (UnsafeStateDir, StateDirBusy, ModelError, ValueError, WebError, ControlError) as exc:
        daemon.shutdown()  # whatever had started already
        raise UsageError(str(exc)) from None
    try:
        daemon.run_until_stopped()
    finally:
        daemon.shutdown()
    return 1 if daemon.failure else 0


def cmd_analyze(args: argparse.Namespace, config: Config) -> int:
    from affectra_edge.analyze_file import InputError, analyze_path
    from affectra_edge.vision.errors import ModelError

    try:
        for line in analyze_path(Path(args.path), config, as_json=args.json):
            print(line, flush=True)
    except (InputError, ModelError) as exc:
        raise UsageError(str(exc)) from None
    return 0


def cmd_stats(args: argparse.Namespace, config: Config) -> int:
    from affectra_edge.stats import compute_stats, format_stats_table
    from affectra_edge.storage import SessionStore

    if not config.state_dir.is_dir():
        raise UsageError(f"state dir {config.state_dir}: no such directory")
    store = SessionStore(config.sessions_dir, config.storage.retention_days)
    stats = compute_stats(store.read(), datetime.now(UTC))
    if args.json:
        print(json.dumps(stats.as_dict(), indent=2))
    else:
        print(format_stats_table(stats))
    return 0


def cmd_test_camera(args: argparse.Namespace, config: Config) -> int:
    from affectra_edge.cameras.factory import guess_kind, make_source
    from affectra_edge.cameras.probe import probe_camera
    from affectra_edge.config import camera_from_dict
    from affectra_edge.security import validate_camera_source

    kind = args.kind or guess_kind(args.source)
    problem = validate_camera_source(kind, args.source)
    if problem:
        raise UsageError(problem)
    camera = camera_from_dict({"id": "test", "kind": kind, "source": args.source,
                               "mode": args.mode, "connect_timeout_s": args.timeout,
                               "stall_timeout_s": args.timeout}, "test-camera")
    result = probe_camera(camera, make_source)
    print(("OK: " if result.ok else "FAILED: ") + redact(result.message))
    return 0 if result.ok else 1


def cmd_set_password(args: argparse.Namespace, config: Config) -> int:
    from affectra_edge.security import UnsafeStateDir, ensure_state_dir
    from affectra_edge.webapp.auth import set_password_interactive

    try:
        ensure_state_dir(config.state_dir)
    except UnsafeStateDir as exc:
        raise UsageError(str(exc)) from None
    return set_password_interactive(config.state_dir, sys.stdin, sys.stdout)


def cmd_status(args: argparse.Namespace, config: Config) -> int:
    from affectra_edge.control import ControlError, ask

    try:
        status = ask(config.state_dir, "status")
    except ControlError as exc:
        raise UsageError(str(exc)) from None
    if args.json:
        print(json.dumps(status, indent=2))
        return 0
    uptime = int(status["uptime_s"])
    print(f"affectra {status['version']} (pid {status['pid']}, device {status['device']}), "
          f"up {uptime // 3600} h {uptime % 3600 // 60} min: {status['status']}")
    for cam in status["cameras"]:
        detail = (f"{cam['analysis_fps']:.0f} fps analysed, {cam['faces']} face(s)"
                  if cam["state"] == "online" else redact(cam.get("last_error") or ""))
        print(f"  camera {cam['camera_id']}: {cam['state']}" + (f" ({detail})" if detail else ""))
    print(f"  sessions: {status['sessions_today']} today, {status['sessions_total']} kept; "
          f"{status['viewers_now']} viewer(s) now")
    mqtt = status["mqtt"]
    print(f"  MQTT: {mqtt['state']}" + (f" ({mqtt['last_error']})" if mqtt.get("last_error")
                                        else ""))
    if status["web"]:
        print(f"  web UI: port {status['web']['port']}")
    if status["problem"] or status["failure"]:
        print(f"  PROBLEM: {status['failure'] or status['problem']}")
        return 1
    return 0


def cmd_clear(args: argparse.Namespace, config: Config) -> int:
    from affectra_edge.control import ControlError, NotRunning, ask
    from affectra_edge.storage import SessionStore

    store = SessionStore(config.sessions_dir, config.storage.retention_days)
    if not args.yes:
        raise UsageError(f"this deletes all {store.count()} recorded sessions in "
                         f"{config.sessions_dir} for good; run `affectra clear --yes`")
    try:
        removed = ask(config.state_dir, "clear")["removed"]
    except NotRunning:
        removed = clear_offline(config.state_dir, store)
    except ControlError as exc:
        raise UsageError(str(exc)) from None
    print(f"deleted {removed} recorded session(s)")
    return 0


def clear_offline(state_dir: Path, store: SessionStore) -> int:
    """Clear with no daemon to ask, holding the state dir's lock so none starts meanwhile."""
    from affectra_edge.control import StateDirBusy, state_dir_held

    try:
        with state_dir_held(state_dir):
            removed = store.clear()
    except StateDirBusy as exc:  # a daemon is starting: its socket is not up yet
        raise UsageError(f"{exc}; it does not answer yet, try again in a moment") from None
    log.warning("all recorded data cleared (%d sessions) by the command line", removed)
    return removed


COMMANDS = {"run": cmd_run, "set-password": cmd_set_password, "check-config": cmd_check_config, "analyze": cmd_analyze,
            "stats": cmd_stats, "test-camera": cmd_test_camera, "status": cmd_status,
            "clear": cmd_clear}
