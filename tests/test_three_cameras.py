"""Three cameras at once in one daemon: two real MJPEG servers (Espressif and ESPHome
flavours) and a video file. Killing one server takes only that camera offline; the other
two keep delivering frames. (Their frame rates are measured by bench/cameras.py.)"""

from __future__ import annotations

import time

from affectra_edge.cameras.scene import Appearance
from affectra_edge.config import config_from_dict
from affectra_edge.daemon import Daemon
from tests.conftest import wait_until, write_video
from tests.mjpeg_servers import CameraServer


def statuses(daemon: Daemon) -> dict:
    return {s.camera_id: s for s in daemon.supervisor.statuses()}




def test_one_camera_dies_and_the_other_two_go_on(tmp_path, state_dir):
    video = write_video(tmp_path / "hall.avi", [Appearance(0, 1e9, 0.5, 0.5, 130)], 4.0, fps=10)
    door = CameraServer("espressif", fps=10).start()
    desk = CameraServer("esphome", boundary="esphomeboundary42", fps=10).start()
    config = config_from_dict({
        "cameras": {"active": "door", "reconnect_max_s": 1.0, "sources": [
            {"id": "door", "kind": "mjpeg", "source": door.url(), "stall_timeout_s": 2.0},
            {"id": "desk", "kind": "mjpeg", "source": desk.url(), "stall_timeout_s": 2.0},
            {"id": "hall", "kind": "file", "source": str(video), "loop": True}]},
        "storage": {"state_dir": str(state_dir)}, "web": {"port": 0}})
    daemon = Daemon(config)
    daemon.start()
    try:
        wait_until(lambda: all(s.state == "online" and s.frames_received >= 10
                               for s in statuses(daemon).values()), 30, "three cameras online")
        door.stop()
        down = wait_until(lambda: statuses(daemon)["door"].state in ("offline", "stalled")
                          and statuses(daemon)["door"], 15, "door to go down")
        assert "127.0.0.1" in down.last_error
        before = statuses(daemon)
        time.sleep(2.0)
        after = statuses(daemon)
        for camera_id in ("desk", "hall"):
            assert after[camera_id].state == "online"
            assert after[camera_id].frames_received >= before[camera_id].frames_received + 5
        assert after["door"].state in ("offline", "stalled")
        # Real frames, real faces: the servers send scenes of 1 to 3 faces, the file 1.
        assert all(p.faces_in_view() >= 1 for p in daemon.supervisor.pipelines
                   if p.camera.id != "door")
    finally:
        daemon.shutdown()
        desk.stop()
