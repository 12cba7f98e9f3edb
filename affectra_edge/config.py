"""Typed settings, loaded from TOML, with defaults that need no file.

One small dataclass per concern. Loading is closed: an unknown key, a wrong type or a value
out of bounds is a :class:`ConfigError` whose lines each name the key and the file.
"""

from __future__ import annotations

import dataclasses
import math
import re
import socket
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CAMERA_KINDS = ("demo", "file", "webcam", "mjpeg", "rtsp")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,47}$")


def _default_device_id() -> str:
    """The host name plus six hex digits of /etc/machine-id: boxes made from one image all
    say "raspberrypi", and on one MQTT broker they must not share topics and ids."""
    host = re.sub(r"[^a-z0-9_-]+", "-", socket.gethostname().lower()).strip("-_")[:41]
    try:
        machine = Path("/etc/machine-id").read_text("ascii").strip().lower()
    except (OSError, UnicodeError):
        machine = ""
    suffix = machine[:6] if re.fullmatch(r"[0-9a-f]{32}", machine) else ""
    return "-".join(part for part in (host or "edge", suffix) if part)[:48]


def _bounds(low: float | None = None, high: float | None = None, **extra: Any) -> dict:
    """Field metadata: inclusive numeric bounds checked by the loader."""
    return {"low": low, "high": high, **extra}


@dataclass
class DeviceConfig:
    id: str = field(default_factory=_default_device_id, metadata={"pattern": _ID_PATTERN})
    name: str = "Affectra Edge"


@dataclass
class CameraConfig:
    id: str = field(default="demo", metadata={"pattern": _ID_PATTERN})
    kind: str = field(default="demo", metadata={"choices": CAMERA_KINDS})
    # A file path or folder (file), device index or path (webcam), URL (mjpeg, rtsp).
    source: str = ""
    enabled: bool = True
    fps: float = field(default=15.0, metadata=_bounds(0.5, 120))
    width: int = field(default=640, metadata=_bounds(64, 4096))
    height: int = field(default=480, metadata=_bounds(48, 4096))
    loop: bool = True  # file: start again at the end instead of ending
    # demo: seconds the whole scripted scene lasts before it repeats.
    demo_cycle_s: float = field(default=60.0, metadata=_bounds(5, 3600))
    # mjpeg: "stream" reads multipart/x-mixed-replace; "capture" polls a single-JPEG URL
    # (an ESP32-CAM's /capture) at ``fps``.
    mode: str = field(default="stream", metadata={"choices": ("stream", "capture")})
    connect_timeout_s: float = field(default=5.0, metadata=_bounds(0.5, 60))
    stall_timeout_s: float = field(default=5.0, metadata=_bounds(0.5, 300))
    max_frame_bytes: int = field(default=2_000_000, metadata=_bounds(10_000, 50_000_000))


@dataclass
class CamerasConfig:
    active: str = "demo"
    sources: list[CameraConfig] = field(default_factory=lambda: [CameraConfig()])
    reconnect_max_s: float = field(default=30.0, metadata=_bounds(1, 600))


@dataclass
class VisionConfig:
    detector: str = field(default="blazeface", metadata={"choices": ("blazeface", "haar")})
    classifier: str = field(
        default="mini_xception", metadata={"choices": ("mini_xception", "deepface")}
    )
    min_detection_score: float = field(default=0.6, metadata=_bounds(0.05, 0.99))
    min_face_px: int = field(default=40, metadata=_bounds(8, 2000))
    max_faces: int = field(default=10, metadata=_bounds(1, 50))
    # Each track is classified at most this often; between runs its last result stands.
    classify_hz: float = field(default=5.0, metadata=_bounds(0.1, 60))
    # The analyzer takes at most this many frames per second from the camera.
    max_fps: float = field(default=30.0, metadata=_bounds(0.5, 120))
    num_threads: int = field(default=1, metadata=_bounds(1, 8))
    track_min_iou: float = field(default=0.2, metadata=_bounds(0.0, 1.0))


@dataclass
class SessionsConfig:
    min_dwell_s: float = field(default=1.5, metadata=_bounds(0.0, 600))
    absence_timeout_s: float = field(default=2.0, metadata=_bounds(0.1, 600))
    min_frames: int = field(default=3, metadata=_bounds(1, 10_000))


@dataclass
class StorageConfig:
    state_dir: str = "/var/lib/affectra"
    retention_days: int = field(default=365, metadata=_bounds(1, 36_500))


# MQTT topic levels we accept for the base topic and discovery prefix: no wildcards, no
# empty level, no leading or trailing slash.
_TOPIC_PATTERN = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")
# An absolute path without control characters, or nothing.
_PEM_PATH = {"pattern": re.compile(r"^$|^/[^\x00-\x1f\x7f]{0,4095}$"),
             "pattern_hint": "must be an absolute path (starting with /), or empty"}
# A host name or an IP address (v4, or v6 without brackets); no scheme, no port.
_HOST_PATTERN = re.compile(r"^$|^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$|^[0-9A-Fa-f:.]+$")


@dataclass
class MqttConfig:
    # MQTT runs when it is enabled and a broker host is set; with no host it is off.
    enabled: bool = True
    host: str = field(default="", metadata={
        "pattern": _HOST_PATTERN,
        "pattern_hint": "must be a host name or IP address only (no mqtt://, no :port)"})
    port: int = field(default=1883, metadata=_bounds(1, 65535))
    tls: bool = False
    # With tls: the CA that signed the broker's certificate (PEM; empty: the system's CAs) ...
    ca_file: str = field(default="", metadata=_PEM_PATH)
    client_cert: str = field(default="", metadata=_PEM_PATH)  # ... an optional client cert
    client_key: str = field(default="", metadata=_PEM_PATH)  # ... and its key (unencrypted)
    # The password is set on the settings page and kept encrypted.
    username: str = field(default="", metadata={
        "pattern": re.compile(r"^[^\x00-\x1f\x7f]{0,256}$"),
        "pattern_hint": "must be at most 256 characters, without control characters"})
    base_topic: str = field(default="affectra", metadata={
        "pattern": _TOPIC_PATTERN,
        "pattern_hint": "must be topic levels of A-Z, a-z, 0-9, _ . - separated by /"})
    discovery: bool = True  # Home Assistant device discovery
    discovery_prefix: str = field(default="homeassistant", metadata={
        "pattern": _TOPIC_PATTERN,
        "pattern_hint": "must be topic levels of A-Z, a-z, 0-9, _ . - separated by /"})
    keepalive_s: int = field(default=60, metadata=_bounds(5, 3600))
    summary_interval_s: float = field(default=60.0, metadata=_bounds(5, 86_400))
    reconnect_max_s: float = field(default=60.0, metadata=_bounds(1, 3600))
    # Ended sessions kept for the broker while it cannot be reached (oldest dropped first);
    # the CSV files keep every session regardless.
    max_pending_sessions: int = field(default=1000, metadata=_bounds(1, 1_000_000))

    @property
    def active(self) -> bool:
        return self.enabled and bool(self.host)


@dataclass
class WebConfig:
    enabled: bool = True
    host: str = "0.0.0.0"
    port: int = field(default=8080, metadata=_bounds(0, 65535))  # 0: any free port
    live_fps: float = field(default=5.0, metadata=_bounds(0.5, 30))
    # Templates and static files; empty: ./web of a source checkout, else the installed copy.
    assets_dir: str = ""
    threads: int = field(default=8, metadata=_bounds(2, 64))


@dataclass
class LoggingConfig:
    level: str = field(default="INFO", metadata={"choices": LOG_LEVELS})
    status_interval_s: float = field(default=1.0, metadata=_bounds(0.2, 3600))


@dataclass
class Config:
    device: DeviceConfig = field(default_factory=DeviceConfig)
    cameras: CamerasConfig = field(default_factory=CamerasConfig)
    vision: VisionConfig = field(default_factory=VisionConfig)
    sessions: SessionsConfig = field(default_factory=SessionsConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    mqtt: MqttConfig = field(default_factory=MqttConfig)
    web: WebConfig = field(default_factory=WebConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    source_file: str | None = field(default=None, compare=False)

    @property
    def state_dir(self) -> Path:
        return Path(self.storage.state_dir)

    @property
    def sessions_dir(self) -> Path:
        return self.state_dir / "sessions"

    def camera(self, camera_id: str) -> CameraConfig | None:
        return next((c for c in self.cameras.sources if c.id == camera_id), None)


class ConfigError(Exception):
    """Invalid configuration; ``errors`` holds one readable line per problem."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("\n".join(errors))


def load_config(path: str | Path | None = None) -> Config:
    """Load ``path`` (TOML) over the defaults; no path means defaults only."""
    if path is None:
        return Config()
    where = str(path)
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError([f"{where}: config file not found"]) from None
    except OSError as exc:
        raise ConfigError([f"{where}: cannot read config file: {exc.strerror}"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{where}: not valid TOML: {exc}"]) from None
    return config_from_dict(data, where)


def config_from_dict(data: dict[str, Any], where: str = "<config>") -> Config:
    errors: list[str] = []
    config = _build(Config, data, "", where, errors)
    if not errors:
        _check_cross_fields(config, where, errors)
    if errors:
        raise ConfigError(errors)
    config.source_file = where
    return config


def camera_from_dict(data: dict[str, Any], where: str = "<camera>") -> CameraConfig:
    """One camera through the same checks as a ``[[cameras.sources]]`` table of the file.

    Raises :class:`ConfigError`, one line per problem, each ``<where>: <field>: <problem>``.
    """
    return section_from_dict(CameraConfig, data, where)


def section_from_dict(cls: type, data: dict[str, Any], where: str, prefix: str = "") -> Any:
    """One section (a dataclass above) through the file's checks; ConfigError on problems."""
    errors: list[str] = []
    section = _build(cls, data, prefix, where, errors)
    if errors:
        raise ConfigError(errors)
    return section


def _build(cls: type, data: Any, prefix: str, where: str, errors: list[str]) -> Any:
    if not isinstance(data, dict):
        errors.append(f"{where}: {prefix.rstrip('.') or 'top level'}: expected a table")
        return cls()
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in dataclasses.fields(cls) if f.name != "source_file"}
    for key in data:
        if key not in known:
            errors.append(f"{where}: {prefix}{key}: unknown key (known: {', '.join(known)})")
    values = {}
    for name, spec in known.items():
        if name in data:
            values[name] = _convert(hints[name], data[name], spec, prefix + name, where, errors)
    try:
        return cls(**values)
    except TypeError:  # a wrong value above already produced an error line
        return cls()


def _convert(hint: Any, value: Any, spec: dataclasses.Field, key: str, where: str,
             errors: list[str]) -> Any:
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, key + ".", where, errors)
    if origin is list:
        (item_type,) = typing.get_args(hint)
        if not isinstance(value, list):
            errors.append(f"{where}: {key}: expected a list of tables")
            return spec.default_factory()  # type: ignore[misc]
        return [_build(item_type, item, f"{key}[{i}].", where, errors)
                for i, item in enumerate(value)]
    if origin in (types.UnionType, typing.Union):
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
    problem = _check_scalar(hint, value, spec.metadata)
    if problem:
        errors.append(f"{where}: {key}: {problem}")
        return _default_of(spec)
    return float(value) if hint is float else value


def _check_scalar(hint: type, value: Any, meta: Any) -> str | None:
    if hint is bool:
        if not isinstance(value, bool):
            return f"expected true or false, got {value!r}"
    elif hint in (int, float):
        ok_types = (int,) if hint is int else (int, float)
        if isinstance(value, bool) or not isinstance(value, ok_types):
            return f"expected {'an integer' if hint is int else 'a number'}, got {value!r}"
        if isinstance(value, float) and not math.isfinite(value):
            return f"expected a finite number, got {value!r}"
        low, high = meta.get("low"), meta.get("high")
        if (low is not None and value < low) or (high is not None and value > high):
            return f"{value!r} is out of bounds ({low} to {high})"
    elif hint is str:
        if not isinstance(value, str):
            return f"expected a string, got {value!r}"
        choices = meta.get("choices")
        if choices and value not in choices:
            return f"{value!r} is not one of {', '.join(choices)}"
        pattern = meta.get("pattern")
        if pattern and not pattern.match(value):
            hint = meta.get("pattern_hint", "must be 1-48 characters of a-z, 0-9, _ and -, "
                                            "starting with a letter or digit")
            return f"{value!r} {hint}"
    return None


def _default_of(spec: dataclasses.Field) -> Any:
    if spec.default is not dataclasses.MISSING:
        return spec.default
    return spec.default_factory()  # type: ignore[misc]


def _check_cross_fields(config: Config, where: str, errors: list[str]) -> None:
    ids = [c.id for c in config.cameras.sources]
    for dup in sorted({i for i in ids if ids.count(i) > 1}):
        errors.append(f"{where}: cameras.sources: camera id {dup!r} is used twice")
    if config.cameras.sources and config.cameras.active not in ids:
        errors.append(f"{where}: cameras.active: {config.cameras.active!r} is not the id of "
                      f"any camera in cameras.sources ({', '.join(ids)})")
    from affectra_edge.security import validate_camera_source  # security imports config

    for i, cam in enumerate(config.cameras.sources):
        problem = validate_camera_source(cam.kind, cam.source)
        if problem:
            errors.append(f"{where}: cameras.sources[{i}].source: {problem}")
    errors.extend(f"{where}: {problem}" for problem in mqtt_problems(config.mqtt))
    if not config.storage.state_dir:
        errors.append(f"{where}: storage.state_dir: must not be empty")


def mqtt_problems(mqtt: MqttConfig) -> list[str]:
    """Checks across the MQTT fields, each ``mqtt.<field>: <problem>``."""
    problems = []
    for name in ("ca_file", "client_cert", "client_key"):
        if getattr(mqtt, name) and not mqtt.tls:
            problems.append(f"mqtt.{name}: is only used with TLS; set mqtt.tls = true")
    if bool(mqtt.client_cert) != bool(mqtt.client_key):
        missing = "client_key" if mqtt.client_cert else "client_cert"
        problems.append(f"mqtt.{missing}: a client certificate needs both client_cert and "
                        f"client_key")
    return problems
