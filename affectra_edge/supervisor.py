"""Keep one pipeline running per enabled camera, and change the set while the daemon runs.

``apply(cameras)`` reconciles: pipelines of cameras that were removed, disabled or changed
are stopped (their open sessions written), new or re-enabled cameras get a pipeline. A camera
that cannot get one (a model fails to load) is reported offline with the reason; the others
are untouched.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from affectra_edge.cameras.worker import DISABLED, OFFLINE, CameraStatus
from affectra_edge.config import CameraConfig
from affectra_edge.pipeline import CameraPipeline

log = logging.getLogger(__name__)


class CameraSupervisor:
    def __init__(self, make_pipeline: Callable[[CameraConfig], CameraPipeline],
                 analyzer_timeout_s: float = 5.0, camera_timeout_s: float = 1.0):
        self._make_pipeline = make_pipeline
        self._analyzer_timeout_s = analyzer_timeout_s
        self._camera_timeout_s = camera_timeout_s
        self._lock = threading.RLock()
        self._cameras: dict[str, CameraConfig] = {}
        self._pipelines: dict[str, CameraPipeline] = {}
        self._errors: dict[str, str] = {}

    @property
    def pipelines(self) -> list[CameraPipeline]:
        with self._lock:
            return list(self._pipelines.values())

    def pipeline(self, camera_id: str) -> CameraPipeline | None:
        with self._lock:
            return self._pipelines.get(camera_id)

    def apply(self, cameras: list[CameraConfig]) -> None:
        with self._lock:
            wanted = {c.id: c for c in cameras}
            for camera_id, pipeline in list(self._pipelines.items()):
                camera = wanted.get(camera_id)
                if camera is None or not camera.enabled or camera != pipeline.camera:
                    reason = ("removed" if camera is None else
                              "disabled" if not camera.enabled else "changed")
                    log.info("camera %s %s: stopping its pipeline", camera_id, reason)
                    self._stop([pipeline])
                    del self._pipelines[camera_id]
            self._errors = {k: v for k, v in self._errors.items() if k in wanted}
            for camera in cameras:
                if camera.enabled and camera.id not in self._pipelines:
                    self._start(camera)
            self._cameras = wanted

    def _start(self, camera: CameraConfig) -> None:
        try:
            pipeline = self._make_pipeline(camera)
            pipeline.start()
        except Exception as exc:  # one camera's failure must not stop the others
            self._errors[camera.id] = f"cannot start: {exc}"
            log.error("camera %s cannot start: %s", camera.id, exc)
            return
        self._errors.pop(camera.id, None)
        self._pipelines[camera.id] = pipeline

    def statuses(self) -> list[CameraStatus]:
        with self._lock:
            result = []
            for camera_id, camera in self._cameras.items():
                pipeline = self._pipelines.get(camera_id)
                if pipeline is not None:
                    result.append(pipeline.status())
                else:
                    state = DISABLED if not camera.enabled else OFFLINE
                    result.append(CameraStatus(camera_id, state, camera.kind,
                                               self._errors.get(camera_id), 0, 0, 0, 0.0, 0, 0))
            return result

    def dead_thread(self) -> str | None:
        for pipeline in self.pipelines:
            name = pipeline.dead_thread()
            if name:
                return name
        return None

    def stop_all(self) -> None:
        with self._lock:
            pipelines = list(self._pipelines.values())
            self._pipelines.clear()
        self._stop(pipelines)

    def _stop(self, pipelines: list[CameraPipeline]) -> None:
        """Stop several pipelines at once: all are asked first, then each is joined."""
        for pipeline in pipelines:
            pipeline.request_stop()
        for pipeline in pipelines:
            pipeline.join_analyzer(self._analyzer_timeout_s)
        for pipeline in pipelines:
            pipeline.join_camera(self._camera_timeout_s)
