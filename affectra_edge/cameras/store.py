"""The camera store: cameras added in the web UI, kept in ``<state_dir>/cameras.json``.

Next to them the store lists the admin's cameras from the TOML config ("fixed"): those can be
selected and enabled or disabled (that choice is kept here), never changed or removed. The
file also holds the selected camera. It is written by write-temp, fsync, rename (0640); a URL
that carries credentials or a secret-looking query value is kept only Fernet-encrypted, next to
its redacted form for display, so no password is ever written in clear.

A file that cannot be read or parsed is moved aside to ``cameras.json.bad-<UTC time>`` (never
overwritten) and the store starts empty, with a warning and :attr:`CameraStore.load_problem`.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from affectra_edge.cameras.store_format import (
    BadStoreFile,
    Record,
    StoreState,
    parse_store,
    serialise_store,
)
from affectra_edge.config import CameraConfig, ConfigError, camera_from_dict
from affectra_edge.logs import redact
from affectra_edge.security import (
    SecretBox,
    SecretError,
    atomic_write,
    holds_secret,
    validate_camera_source,
)

log = logging.getLogger(__name__)

STORE_FILE = "cameras.json"
MAX_CAMERAS = 16  # added in the UI; a Pi-class box cannot analyse more anyway
_WHERE = "camera"
_HIDDEN = "***"  # what redact() puts in place of a secret

Listener = Callable[[list["StoredCamera"]], None]


class CameraStoreError(Exception):
    """A change the store refuses, or a file it cannot use.

    ``field`` names the form field the message belongs next to (None: the form as a whole);
    ``errors`` maps every faulty field to its message when there are several.
    """

    def __init__(self, field: str | None, message: str, errors: dict[str, str] | None = None):
        self.field = field
        self.message = message
        self.errors = errors if errors is not None else ({field: message} if field else {})
        super().__init__(f"{field}: {message}" if field else message)


class CameraNotFound(CameraStoreError):
    def __init__(self, camera_id: str):
        super().__init__("id", f"there is no camera {camera_id!r}")


@dataclass(frozen=True)
class StoredCamera:
    """One camera as the UI shows it; ``camera.source`` is ``display_source``, never a secret."""

    camera: CameraConfig
    from_config: bool
    has_credentials: bool
    display_source: str

    @property
    def id(self) -> str:
        return self.camera.id

    @property
    def enabled(self) -> bool:
        return self.camera.enabled


class CameraStore:
    """Thread-safe; every change is saved before it is visible, then listeners get the new list.

    Listeners run on the thread that made the change (a web request): keep them quick. They
    never receive an older list after a newer one.
    """

    def __init__(self, state_dir: Path, box: SecretBox, fixed: Sequence[CameraConfig] = (),
                 default_selected: str | None = None):
        self.path = Path(state_dir) / STORE_FILE
        self._box = box
        self._fixed = {camera.id: camera for camera in fixed}
        self._default_selected = default_selected
        self._lock = threading.RLock()
        self._notify_lock = threading.RLock()
        self._listeners: list[Listener] = []
        self._version = 0
        self._delivered = 0
        self.load_problem: str | None = None
        self._state = self._load()
        self._check_loaded()

    # -- reading -------------------------------------------------------------------------------

    def list(self) -> list[StoredCamera]:
        with self._lock:
            return self._listing(self._state)

    def get(self, camera_id: str) -> StoredCamera | None:
        return next((c for c in self.list() if c.id == camera_id), None)

    @property
    def selected(self) -> str | None:
        """The selected camera; if none is selected, or it is gone or disabled: the config's
        default, else the first enabled camera, else None."""
        with self._lock:
            return self._resolve_selected(self._state)

    def resolved(self, camera_id: str) -> CameraConfig:
        """The camera with its real source (decrypted) for a camera worker.

        Raises :class:`CameraNotFound`, or :class:`SecretError` if the key was replaced.
        """
        with self._lock:
            if camera_id in self._fixed:
                enabled = self._state.fixed_enabled.get(camera_id, self._fixed[camera_id].enabled)
                return dataclasses.replace(self._fixed[camera_id], enabled=enabled)
            record = self._state.records.get(camera_id)
        if record is None:
            raise CameraNotFound(camera_id)
        if record.token is None:
            return dataclasses.replace(record.camera)
        return dataclasses.replace(record.camera, source=self._box.decrypt(record.token))

    def subscribe(self, callback: Listener) -> Callable[[], None]:
        """Call ``callback(new_list)`` after each change; returns a function that unsubscribes."""
        with self._notify_lock:
            self._listeners.append(callback)

        def unsubscribe() -> None:
            with self._notify_lock:
                if callback in self._listeners:
                    self._listeners.remove(callback)
        return unsubscribe

    # -- changing ------------------------------------------------------------------------------

    def add(self, camera: CameraConfig) -> StoredCamera:
        checked = _validated(dataclasses.asdict(camera))

        def mutate(state: StoreState) -> None:
            if checked.id in self._fixed or checked.id in state.records:
                raise CameraStoreError("id", f"there is already a camera {checked.id!r}; "
                                             f"choose another id")
            if len(state.records) >= MAX_CAMERAS:
                raise CameraStoreError(None, f"at most {MAX_CAMERAS} cameras can be added")
            state.records[checked.id] = self._encoded(checked)
        return _find(self._change(mutate), checked.id)

    def update(self, camera_id: str, **changes: Any) -> StoredCamera:
        """Change some fields. A ``source`` equal to the shown (redacted) one keeps the stored
        URL and its credentials."""
        if "id" in changes and changes["id"] != camera_id:
            raise CameraStoreError("id", "a camera's id cannot be changed; add a new camera "
                                         "and remove this one")

        def mutate(state: StoreState) -> None:
            record = self._editable(state, camera_id)
            new = dict(changes)
            source = new.get("source", record.camera.source)
            keep_secret = record.token is not None and source == record.camera.source
            if keep_secret:
                new.pop("source", None)
            elif record.token is not None and _HIDDEN in str(source):
                raise CameraStoreError("source", "the URL still holds parts hidden as ***; "
                                                 "type the user name, password or token again")
            checked = _validated({**dataclasses.asdict(record.camera), **new})
            state.records[camera_id] = (Record(checked, record.token) if keep_secret
                                        else self._encoded(checked))
        return _find(self._change(mutate), camera_id)

    def remove(self, camera_id: str) -> None:
        def mutate(state: StoreState) -> None:
            self._editable(state, camera_id)
            del state.records[camera_id]
        self._change(mutate)

    def set_enabled(self, camera_id: str, enabled: bool) -> None:
        if not isinstance(enabled, bool):
            raise CameraStoreError("enabled", f"expected true or false, got {enabled!r}")

        def mutate(state: StoreState) -> None:
            if camera_id in self._fixed:
                state.fixed_enabled[camera_id] = enabled
            elif camera_id in state.records:
                record = state.records[camera_id]
                state.records[camera_id] = dataclasses.replace(
                    record, camera=dataclasses.replace(record.camera, enabled=enabled))
            else:
                raise CameraNotFound(camera_id)
        self._change(mutate)

    def select(self, camera_id: str) -> None:
        def mutate(state: StoreState) -> None:
            camera = next((c for c in self._listing(state) if c.id == camera_id), None)
            if camera is None:
                raise CameraNotFound(camera_id)
            if not camera.enabled:
                raise CameraStoreError("id", f"camera {camera_id!r} is disabled; enable it "
                                             f"before selecting it")
            state.selected = camera_id
        self._change(mutate)

    # -- internals -----------------------------------------------------------------------------

    def _change(self, mutate: Callable[[StoreState], None]) -> list[StoredCamera]:
        """Apply ``mutate`` to a copy, save it, make it current, then tell the listeners."""
        with self._lock:
            new = self._state.copy()
            mutate(new)
            if new.selected is not None and new.selected not in self._enabled_ids(new):
                new.selected = None  # removed or disabled: fall back to another enabled one
                new.selected = self._resolve_selected(new)
            self._save(new)
            self._state = new
            self._version += 1
            version, snapshot = self._version, self._listing(new)
        self._notify(version, snapshot)
        return snapshot

    def _notify(self, version: int, snapshot: list[StoredCamera]) -> None:
        with self._notify_lock:
            if version <= self._delivered:
                return  # a newer list was delivered already
            self._delivered = version
            for callback in list(self._listeners):
                if self._delivered != version:
                    break  # a listener made a change; everyone got that newer list
                try:
                    callback(snapshot)
                except Exception:
                    log.exception("camera store listener %r failed", callback)

    def _editable(self, state: StoreState, camera_id: str) -> Record:
        if camera_id in self._fixed:
            raise CameraStoreError("id", f"camera {camera_id} is defined in the config file; "
                                         f"change it there")
        if camera_id not in state.records:
            raise CameraNotFound(camera_id)
        return state.records[camera_id]

    def _listing(self, state: StoreState) -> list[StoredCamera]:
        cameras = []
        for camera in self._fixed.values():
            enabled = state.fixed_enabled.get(camera.id, camera.enabled)
            shown = redact(camera.source)
            cameras.append(StoredCamera(
                dataclasses.replace(camera, enabled=enabled, source=shown),
                from_config=True, has_credentials=holds_secret(camera.source),
                display_source=shown))
        for camera_id, record in state.records.items():
            if camera_id not in self._fixed:  # a config camera with the same id wins
                cameras.append(StoredCamera(
                    dataclasses.replace(record.camera), from_config=False,
                    has_credentials=record.token is not None,
                    display_source=record.camera.source))
        return cameras

    def _enabled_ids(self, state: StoreState) -> list[str]:
        return [c.id for c in self._listing(state) if c.enabled]

    def _resolve_selected(self, state: StoreState) -> str | None:
        enabled = self._enabled_ids(state)
        for candidate in (state.selected, self._default_selected):
            if candidate in enabled:
                return candidate
        return enabled[0] if enabled else None

    def _encoded(self, camera: CameraConfig) -> Record:
        if not holds_secret(camera.source):
            return Record(camera)
        token = self._box.encrypt(camera.source)
        return Record(dataclasses.replace(camera, source=redact(camera.source)), token)

    def _save(self, state: StoreState) -> None:
        try:
            atomic_write(self.path, serialise_store(state), 0o640)
        except OSError as exc:
            raise CameraStoreError(None, f"cannot save {self.path}: {exc.strerror}") from None

    def _load(self) -> StoreState:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return StoreState({}, {}, None)
        except OSError as exc:
            problem = f"cannot read it: {exc.strerror}"
        else:
            try:
                return parse_store(raw)
            except BadStoreFile as exc:
                problem = str(exc)
        self._set_aside(problem)
        return StoreState({}, {}, None)

    def _set_aside(self, problem: str) -> None:
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        aside = self.path.with_name(f"{self.path.name}.bad-{stamp}")
        for n in range(1, 1000):
            if not os.path.lexists(aside):
                break
            aside = self.path.with_name(f"{self.path.name}.bad-{stamp}-{n}")
        try:
            os.rename(self.path, aside)
        except OSError as exc:
            raise CameraStoreError(None, f"{self.path}: {problem}; it cannot be moved aside "
                                         f"({exc.strerror}): fix or move it by hand") from None
        self.load_problem = (f"{self.path}: {problem}; moved it to {aside.name} and started "
                             f"with no cameras added in the web UI")
        log.warning("%s (the cameras in it can be restored from that copy)", self.load_problem)

    def _check_loaded(self) -> None:
        """Warn about what the file holds but cannot be used; encrypt a hand-written secret."""
        plain_secrets = False
        for camera_id, record in self._state.records.items():
            if camera_id in self._fixed:
                log.warning("camera %r added in the web UI has the id of a camera in the config "
                            "file: the config file's camera is used; the other stays in %s",
                            camera_id, self.path)
            if record.token is not None:
                try:
                    self._box.decrypt(record.token)
                except SecretError as exc:
                    log.warning("camera %r: %s", camera_id, exc)
            elif holds_secret(record.camera.source):
                plain_secrets = True
        if plain_secrets:
            state = self._state.copy()
            state.records = {i: (self._encoded(r.camera) if r.token is None else r)
                             for i, r in state.records.items()}
            self._save(state)
            self._state = state
            log.warning("%s held a camera URL with credentials in clear; it is encrypted now",
                        self.path)


def _find(cameras: list[StoredCamera], camera_id: str) -> StoredCamera:
    return next(c for c in cameras if c.id == camera_id)


def _validated(data: dict[str, Any]) -> CameraConfig:
    """A camera from ``data`` through the config file's checks plus the source check."""
    errors: dict[str, str] = {}
    for name, value in data.items():
        try:
            camera_from_dict({name: value}, _WHERE)
        except ConfigError as exc:
            errors[name] = exc.errors[0].removeprefix(f"{_WHERE}: {name}: ")
    if "kind" not in errors and "source" not in errors:
        problem = validate_camera_source(data.get("kind", CameraConfig.kind),
                                         data.get("source", ""))
        if problem:
            errors["source"] = problem
    if errors:
        field = next(iter(errors))
        raise CameraStoreError(field, errors[field], errors)
    return camera_from_dict(data, _WHERE)
