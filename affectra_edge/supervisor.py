"""Keep one pipeline running per enabled camera, and change the set while the daemon runs.

``apply(cameras)`` reconciles: pipelines of cameras that were removed, disabled or changed
are stopped (their open sessions written), new or re-enabled cameras get a pipeline. A camera
that cannot get one (a model fails to load) is reported offline with the reason; the others
are untouched. The slow parts (joining threads, loading models) run outside the lock that
status readers take, so a web request reading statuses never waits on them. After
``stop_all()`` the supervisor is closed: a late ``apply`` starts nothing.
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
        self._apply_lock = threading.Lock()  # one reconciliation at a time
        self._lock = threading.Lock()  # the dicts below; held only briefly
        self._closed = False
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
        with self._apply_lock:
            with self._lock:
                if self._closed:
                    return
                wanted = {c.id: c for c in cameras}
                stopping = []
                for camera_id, pipeline in list(self._pipelines.items()):
                    camera = wanted.get(camera_id)
                    if camera is None or not camera.enabled or camera != pipeline.camera:
                        reason = ("removed" if camera is None else
                                  "disabled" if not camera.enabled else "changed")
                        log.info("camera %s %s: stopping its pipeline", camera_id, reason)
                        stopping.append(self._pipelines.pop(camera_id))
                self._errors = {k: v for k, v in self._errors.items() if k in wanted}
                self._cameras = wanted
                starting = [c for c in cameras if c.enabled and c.id not in self._pipelines]
            self._stop(stopping)
            for camera in starting:
                self._start(camera)

    def _start(self, camera: CameraConfig) -> None:
        try:
            pipeline = self._make_pipeline(camera)
        except Exception as exc:  # one camera's failure must not stop the others
            with self._lock:
                self._errors[camera.id] = f"cannot start: {exc}"
            log.error("camera %s cannot start: %s", camera.id, exc)
            return
        with self._lock:
            if self._closed:
                return
            self._errors.pop(camera.id, None)
            self._pipelines[camera.id] = pipeline
            pipeline.start()

    def statuses(self) -> list[CameraStatus]:
        with self._lock:
            cameras = list(self._cameras.values())
            pipelines = dict(self._pipelines)
            errors = dict(self._errors)
        result = []
        for camera in cameras:
            pipeline = pipelines.get(camera.id)
            if pipeline is not None:
                result.append(pipeline.status())
            else:
                state = DISABLED if not camera.enabled else OFFLINE
                result.append(CameraStatus(camera.id, state, camera.kind, errors.get(camera.id),
                                           0, 0, 0, 0.0, 0, 0))
        return result

    def dead_thread(self) -> str | None:
        for pipeline in self.pipelines:
            name = pipeline.dead_thread()
            if name:
                return name
        return None

    def stop_all(self) -> None:
        """Stop every pipeline and close: no later apply() starts anything."""
        with self._lock:
            self._closed = True  # from now on _start() adds nothing
            pipelines = list(self._pipelines.values())
            self._pipelines.clear()
        # Let an apply() under way finish stopping what it took out, so every open
        # session has reached the writer when we return.
        with self._apply_lock:
            pass
        self._stop(pipelines)

    def _stop(self, pipelines: list[CameraPipeline]) -> None:
        """Stop several pipelines at once: all are asked first, then each is joined."""
        for pipeline in pipelines:
            pipeline.request_stop()
        for pipeline in pipelines:
            pipeline.join_analyzer(self._analyzer_timeout_s)
        for pipeline in pipelines:
            pipeline.join_camera(self._camera_timeout_s)
