"""The JSON API behind the pages, and /healthz for monitors."""

from __future__ import annotations

import json
import logging
import re
from datetime import date

import bottle

from affectra_edge import runtime_settings
from affectra_edge.cameras.factory import make_source
from affectra_edge.cameras.probe import probe_camera
from affectra_edge.cameras.store import CameraStoreError
from affectra_edge.config import CameraConfig, ConfigError, camera_from_dict
from affectra_edge.storage import to_csv_bytes
from affectra_edge.webapp.context import WebContext

log = logging.getLogger(__name__)

CAMERA_FIELDS = {"id", "kind", "source", "mode", "enabled", "fps", "loop"}
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,47}$")


def install_api(app: bottle.Bottle, ctx: WebContext) -> None:
    daemon = ctx.daemon

    @app.get("/healthz")
    def healthz():
        statuses = daemon.supervisor.statuses()
        healthy = daemon.failure is None and all(
            s.state in ("online", "disabled") for s in statuses)
        bottle.response.status = 200 if daemon.failure is None else 503
        cameras = []
        for s in statuses:
            pipeline = daemon.supervisor.pipeline(s.camera_id)
            cameras.append({"id": s.camera_id, "state": s.state,
                            "analysis_fps": round(pipeline.analysis_fps(), 1) if pipeline
                            else 0.0})
        return {"status": "ok" if healthy else "degraded", "cameras": cameras,
                "failure": daemon.failure}

    @app.get("/api/status")
    def status():
        cameras = []
        for s in daemon.supervisor.statuses():
            pipeline = daemon.supervisor.pipeline(s.camera_id)
            cameras.append({**s.as_dict(),
                            "faces": pipeline.faces_in_view() if pipeline else 0})
        return {"device": {"id": ctx.config.device.id, "name": ctx.config.device.name},
                "selected": daemon.cameras.selected, "viewers_now": daemon.viewers_now(),
                "sessions_today": daemon.sessions_today, "cameras": cameras,
                "mqtt": daemon.mqtt_status()}

    @app.get("/api/live.jpg")
    def live():
        camera_id = bottle.request.query.getunicode("camera") or daemon.cameras.selected or ""
        pipeline = daemon.supervisor.pipeline(camera_id) if _ID.match(camera_id) else None
        frame = pipeline.live_jpeg if pipeline else None
        if frame is None:
            raise json_error(404, f"no live image from camera {camera_id!r} yet")
        bottle.response.content_type = "image/jpeg"
        bottle.response.set_header("Cache-Control", "no-store")
        return frame

    @app.get("/api/stats")
    def stats():
        bottle.response.content_type = "application/json"
        return daemon.stats.get_json()  # serialized once per recompute, not per request

    @app.get("/api/sessions.csv")
    def sessions_csv():
        start, end = _date_arg("from"), _date_arg("to")
        if start and end and start > end:
            raise json_error(400, "'from' is after 'to'", "from")
        bottle.response.content_type = "text/csv; charset=utf-8"
        bottle.response.set_header("Content-Disposition",
                                   'attachment; filename="affectra-sessions.csv"')
        return to_csv_bytes(daemon.store.read(start, end))

    @app.get("/api/cameras")
    def cameras():
        statuses = {s.camera_id: s for s in daemon.supervisor.statuses()}
        listed = []
        for stored in daemon.cameras.list():
            st = statuses.get(stored.id)
            listed.append({"id": stored.id, "kind": stored.camera.kind,
                           "display_source": stored.display_source,
                           "enabled": stored.enabled, "from_config": stored.from_config,
                           "mode": stored.camera.mode, "state": st.state if st else "offline",
                           "last_error": st.last_error if st else None})
        return {"selected": daemon.cameras.selected, "cameras": listed}

    @app.post("/api/cameras")
    def add_camera():
        camera = _camera_from_request()
        try:
            stored = daemon.cameras.add(camera)
        except CameraStoreError as exc:
            raise json_error(400, str(exc.message), exc.field) from None
        log.info("camera %s added from the web UI: %s", stored.id, stored.display_source)
        return {"ok": True, "id": stored.id}

    @app.post("/api/cameras/test")
    def test_camera():
        camera = _camera_from_request(for_test=True)
        return probe_camera(camera, make_source).as_dict()

    @app.post("/api/cameras/<camera_id>/<action:re:select|enable|remove>")
    def camera_action(camera_id: str, action: str):
        if not _ID.match(camera_id):
            raise json_error(404, "no such camera")
        try:
            if action == "select":
                daemon.cameras.select(camera_id)
            elif action == "enable":
                enabled = _read_json().get("enabled")
                if not isinstance(enabled, bool):
                    raise json_error(400, "'enabled' must be true or false", "enabled")
                daemon.cameras.set_enabled(camera_id, enabled)
            else:
                daemon.cameras.remove(camera_id)
        except CameraStoreError as exc:
            raise json_error(400, str(exc.message), exc.field) from None
        log.info("camera %s: %s from the web UI", camera_id, action)
        return {"ok": True}

    def settings_now() -> dict:
        values = runtime_settings.current(ctx.config)
        values["mqtt"]["password_set"] = daemon.mqtt_password is not None
        return values

    @app.get("/api/settings")
    def settings():
        return settings_now()

    @app.post("/api/settings")
    def change_settings():
        try:
            values = runtime_settings.validated(ctx.config, _read_json())
        except runtime_settings.SettingsError as exc:
            raise json_error(400, exc.message, exc.field or None) from None
        daemon.apply_settings(values)
        return settings_now()

    @app.get("/api/mqtt")
    def mqtt_status():
        return daemon.mqtt_status()

    @app.get("/api/clear")
    def clear_preview():
        return {"sessions": daemon.store.count()}

    @app.post("/api/clear")
    def clear():
        expected = daemon.store.count()
        confirm = _read_json().get("confirm")
        if confirm != expected or isinstance(confirm, bool):
            raise json_error(400, f"type the number of sessions ({expected}) to confirm",
                         "confirm")
        removed = daemon.clear_all(f"the web UI ({bottle.request.remote_addr})")
        return {"ok": True, "removed": removed}


def _camera_from_request(for_test: bool = False) -> CameraConfig:
    data = _read_json()
    unknown = set(data) - CAMERA_FIELDS
    if unknown:
        raise json_error(400, f"unknown field {sorted(unknown)[0]!r}", sorted(unknown)[0])
    if for_test:
        data = {**data, "id": "test"}
    try:
        return camera_from_dict(data, "camera")
    except ConfigError as exc:
        first = exc.errors[0].removeprefix("camera: ")
        field, _, message = first.partition(": ")
        raise json_error(400, message or first, field.split("[")[0] or None) from None


def _read_json() -> dict:
    raw = bottle.request.body.read(65_537)
    if len(raw) > 65_536:
        raise json_error(413, "the request is too large")
    try:
        data = json.loads(raw.decode("utf-8") or "{}", parse_constant=_no_constants)
    except UnicodeDecodeError:
        raise json_error(400, "the request is not UTF-8 text") from None
    except json.JSONDecodeError:
        raise json_error(400, "the request is not valid JSON") from None
    if not isinstance(data, dict):
        raise json_error(400, "expected a JSON object")
    return data


def _no_constants(name: str):
    raise json.JSONDecodeError(f"{name} is not a number", name, 0)


def _date_arg(name: str) -> date | None:
    value = bottle.request.query.getunicode(name) or ""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise json_error(400, f"'{name}' must be a date like 2026-11-25", name) from None


def json_error(status: int, message: str, field: str | None = None) -> bottle.HTTPResponse:
    """An error answer the pages show next to ``field``: ``{"error": ..., "field": ...}``."""
    body = {"error": message}
    if field:
        body["field"] = field
    return bottle.HTTPResponse(body=json.dumps(body), status=status,
                               headers={"Content-Type": "application/json"})
