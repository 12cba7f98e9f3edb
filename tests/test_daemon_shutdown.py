"""Shutdown order and supervision of the daemon, in process, with real models and files.

The stuck source stands in for a V4L2 webcam whose read blocks in the driver (no such
device exists on a test machine); everything else is real.
"""

from __future__ import annotations

import threading
import time

from affectra_edge.cameras.base import FrameSource, SourceInfo
from affectra_edge.cameras.scene import Appearance, render
from affectra_edge.config import load_config
from affectra_edge.daemon import Daemon
from affectra_edge.storage import SessionStore

FACE_SCENE = [Appearance(0, 1e9, 0.5, 0.5, 150)]


class StuckAfterFaces(FrameSource):
    """A live camera showing a face for ``frames`` frames, then stuck in read() for good."""

    live = True

    def __init__(self, frames: int = 60):
        self.frames = frames
        self.sent = 0
        self.release = threading.Event()

    def open(self):
        pass

    def read(self):
        if self.sent >= self.frames:
            self.release.wait(60)  # blocks like a wedged driver; never returns in the test
            return None
        self.sent += 1
        time.sleep(1 / 30)
        return render(FACE_SCENE, self.sent / 30)

    def close(self):
        self.release.set()

    def info(self):
        return SourceInfo(640, 480, 30.0)

    def describe(self):
        return "stuck test camera"


def make_daemon(state_dir, source):
    config = load_config(None)
    config.storage.state_dir = str(state_dir)
    config.web.port = 0
    config.sessions.min_dwell_s = 0.5
    config.sessions.absence_timeout_s = 30.0  # the viewer is still "there" at shutdown
    return Daemon(config, source_factory=lambda camera: source)


def test_open_sessions_are_written_even_when_the_camera_is_stuck(state_dir):
    source = StuckAfterFaces(frames=45)
    daemon = make_daemon(state_dir, source)
    daemon.start()
    deadline = time.monotonic() + 30
    while daemon.viewers_now() < 1:
        assert time.monotonic() < deadline, "no session started"
        time.sleep(0.05)
    while source.sent < source.frames:  # now the camera is stuck inside read()
        time.sleep(0.05)
    started = time.monotonic()
    daemon.shutdown(writer_timeout_s=5)
    assert time.monotonic() - started < 8
    records = SessionStore(state_dir / "sessions", 30).read()
    assert len(records) == 1 and records[0].duration_s >= 0.5
    source.release.set()


def test_a_dead_thread_stops_the_daemon_with_a_reason(state_dir):
    source = StuckAfterFaces(frames=10_000)
    daemon = make_daemon(state_dir, source)
    daemon.config.logging.status_interval_s = 0.2
    daemon.start()
    (pipeline,) = daemon.supervisor.pipelines
    # Simulate a thread that ended by a bug: swap the analyzer thread for a finished one.
    dead = threading.Thread(target=lambda: None, name=pipeline.thread.name)
    dead.start()
    dead.join()
    real, pipeline.thread = pipeline.thread, dead
    runner = threading.Thread(target=daemon.run_until_stopped)
    runner.start()
    runner.join(10)
    assert not runner.is_alive()
    assert daemon.failure == "the analyzer-demo thread ended unexpectedly"
    pipeline.thread = real
    daemon.shutdown()
    source.release.set()
