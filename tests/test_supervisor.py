"""Changing the set of cameras while the daemon runs, with real MJPEG servers and models."""

from __future__ import annotations

import dataclasses
import threading
import time

from affectra_edge.cameras.mjpeg import MjpegSource
from affectra_edge.cameras.worker import CameraWorker
from affectra_edge.config import config_from_dict
from affectra_edge.daemon import Daemon
from tests.conftest import wait_until
from tests.mjpeg_servers import CameraServer


def states(daemon: Daemon) -> dict[str, str]:
    return {s.camera_id: s.state for s in daemon.supervisor.statuses()}


def test_cameras_are_added_disabled_changed_and_removed_at_run_time(state_dir):
    one = CameraServer("espressif", fps=10).start()
    two = CameraServer("esphome", fps=10).start()
    config = config_from_dict({"cameras": {"active": "demo", "sources": [
        {"id": "demo", "kind": "demo", "enabled": False}]},
        "storage": {"state_dir": str(state_dir)}, "web": {"port": 0}})
    daemon = Daemon(config)
    daemon.start()
    try:
        assert states(daemon) == {"demo": "disabled"}
        store = daemon.cameras
        added = store.add(dataclasses.replace(config.camera("demo"), id="door", kind="mjpeg",
                                              source=one.url(user="u", password="pw"),
                                              enabled=True))
        assert added.display_source == f"http://***:***@127.0.0.1:{one.port}/stream"
        wait_until(lambda: states(daemon).get("door") == "online", 15, "door online")
        first = daemon.supervisor.pipeline("door")
        store.set_enabled("door", False)  # the daemon applies changes in the background
        wait_until(lambda: states(daemon)["door"] == "disabled", 10, "door disabled")
        wait_until(lambda: not first.thread.is_alive(), 10, "door's analyzer to stop")
        store.set_enabled("door", True)
        wait_until(lambda: states(daemon).get("door") == "online", 15, "door online again")
        store.update("door", source=two.url())  # a changed camera gets a new pipeline
        wait_until(lambda: two.frames_sent > 0 and states(daemon)["door"] == "online", 15,
                   "door on the second server")
        store.remove("door")
        wait_until(lambda: "door" not in states(daemon) and not daemon.supervisor.pipelines,
                   10, "door removed")
    finally:
        daemon.shutdown()
        one.stop()
        two.stop()


def test_a_camera_change_after_shutdown_starts_nothing(state_dir):
    server = CameraServer("espressif", fps=10).start()
    config = config_from_dict({"cameras": {"active": "door", "sources": [
        {"id": "door", "kind": "mjpeg", "source": server.url()}]},
        "storage": {"state_dir": str(state_dir)}, "web": {"port": 0}})
    daemon = Daemon(config)
    daemon.start()
    cameras = daemon.cameras
    daemon.shutdown()
    cameras.set_enabled("door", False)
    cameras.set_enabled("door", True)
    time.sleep(1.0)  # give a (wrong) background restart the time to happen
    assert daemon.supervisor.pipelines == []
    assert not [t for t in threading.enumerate() if t.name.endswith("-door")]
    server.stop()


def test_stopping_a_worker_wakes_a_read_blocked_on_a_frozen_camera():
    server = CameraServer("espressif", fps=10, freeze_after=3).start()
    stop = threading.Event()
    worker = CameraWorker("frozen", lambda: MjpegSource(server.url(), stall_timeout_s=60.0),
                          stop)
    worker.start()
    wait_until(lambda: server.frozen.is_set() and worker.status().frames_received >= 3, 15,
               "the camera to freeze")
    time.sleep(0.3)  # the worker is now blocked reading the frozen stream
    worker.stop()
    assert worker.join(3), "the worker stayed blocked in its read after stop()"
    assert worker.status().state == "online"  # stopping is not a failure
    server.stop()
