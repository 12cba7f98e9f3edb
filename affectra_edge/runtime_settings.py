"""Settings the web UI may change while the daemon runs, kept in ``settings.json``.

Only what is safe to change live: the session timeouts and the retention. They override the
config file's values, are validated with the same checks, written atomically, and applied at
once (open sessions follow the new timeouts from their next frame).
"""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path
from typing import Any

from affectra_edge.config import (
    Config,
    ConfigError,
    SessionsConfig,
    StorageConfig,
    section_from_dict,
)
from affectra_edge.security import atomic_write

log = logging.getLogger(__name__)

SETTINGS_FILE = "settings.json"
EDITABLE = {"sessions": ("min_dwell_s", "absence_timeout_s", "min_frames"),
            "storage": ("retention_days",)}


class SettingsError(Exception):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


def current(config: Config) -> dict[str, dict[str, Any]]:
    return {section: {name: getattr(getattr(config, section), name) for name in names}
            for section, names in EDITABLE.items()}


def validated(config: Config, data: Any) -> dict[str, dict[str, Any]]:
    """The new editable values from ``data``, checked; SettingsError names the first bad field."""
    if not isinstance(data, dict):
        raise SettingsError("", "expected a JSON object")
    merged = current(config)
    for section, values in data.items():
        if section not in EDITABLE or not isinstance(values, dict):
            raise SettingsError(str(section)[:40], f"{str(section)[:40]!r} cannot be changed here")
        for name, value in values.items():
            if name not in EDITABLE[section]:
                raise SettingsError(f"{section}.{str(name)[:40]}",
                                    f"{str(name)[:40]!r} cannot be changed here")
            merged[section][name] = value
    checks = {"sessions": SessionsConfig, "storage": StorageConfig}
    for section, cls in checks.items():
        base = dataclasses.asdict(getattr(config, section))
        try:
            section_from_dict(cls, {**base, **merged[section]}, "settings", f"{section}.")
        except ConfigError as exc:
            first = exc.errors[0].removeprefix("settings: ")
            field, _, message = first.partition(": ")
            raise SettingsError(field, message) from None
    return merged


def load(config: Config) -> None:
    """Apply a saved settings.json over ``config`` (a broken file is named and ignored)."""
    path = config.state_dir / SETTINGS_FILE
    if not path.exists():
        return
    try:
        values = validated(config, json.loads(path.read_text("utf-8")))
    except (OSError, ValueError, SettingsError) as exc:
        log.warning("%s cannot be used (%s); using the config file's values", path, exc)
        return
    _assign(config, values)


def save(config: Config, values: dict[str, dict[str, Any]]) -> None:
    path: Path = config.state_dir / SETTINGS_FILE
    atomic_write(path, (json.dumps(values, indent=2) + "\n").encode("utf-8"), 0o640)
    _assign(config, values)


def _assign(config: Config, values: dict[str, dict[str, Any]]) -> None:
    for section, names in values.items():
        target = getattr(config, section)
        for name, value in names.items():
            setattr(target, name, float(value) if isinstance(getattr(target, name), float)
                    else value)
