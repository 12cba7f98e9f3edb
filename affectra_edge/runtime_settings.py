"""Settings the web UI may change while the daemon runs, kept in ``settings.json``.

Only what is safe to change live: the session timeouts, the retention and the MQTT connection.
They override the config file's values, are validated with the same checks, written
atomically, and applied at once (open sessions follow the new timeouts from their next frame;
the MQTT publisher reconnects). The MQTT password is stored only Fernet-encrypted
(``password_encrypted``), with the key of :class:`~affectra_edge.security.SecretBox`.
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
    MqttConfig,
    SessionsConfig,
    StorageConfig,
    mqtt_problems,
    section_from_dict,
)
from affectra_edge.security import SecretBox, SecretError, atomic_write

log = logging.getLogger(__name__)

SETTINGS_FILE = "settings.json"
EDITABLE = {"sessions": ("min_dwell_s", "absence_timeout_s", "min_frames"),
            "storage": ("retention_days",),
            "mqtt": ("enabled", "host", "port", "tls", "ca_file", "client_cert", "client_key",
                     "username", "base_topic", "discovery", "discovery_prefix", "keepalive_s",
                     "summary_interval_s")}
PASSWORD = "password"  # in a request: the new MQTT password ("" forgets it)
PASSWORD_STORED = "password_encrypted"  # in settings.json
_CHECKS = {"sessions": SessionsConfig, "storage": StorageConfig, "mqtt": MqttConfig}


class SettingsError(Exception):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


def current(config: Config) -> dict[str, dict[str, Any]]:
    return {section: {name: getattr(getattr(config, section), name) for name in names}
            for section, names in EDITABLE.items()}


def validated(config: Config, data: Any, stored: bool = False) -> dict[str, dict[str, Any]]:
    """The new editable values from ``data``, checked; SettingsError names the first bad field.

    A request may carry ``mqtt.password`` (kept in the result); settings.json (``stored``) may
    carry ``mqtt.password_encrypted`` instead.
    """
    if not isinstance(data, dict):
        raise SettingsError("", "expected a JSON object")
    merged = current(config)
    secret_key = PASSWORD_STORED if stored else PASSWORD
    secret = None
    for section, values in data.items():
        if section not in EDITABLE or not isinstance(values, dict):
            raise SettingsError(str(section)[:40], f"{str(section)[:40]!r} cannot be changed here")
        for name, value in values.items():
            if section == "mqtt" and name == secret_key:
                if not isinstance(value, str) or len(value) > 4096:
                    raise SettingsError(f"mqtt.{name}", "must be text")
                secret = value
                continue
            if name not in EDITABLE[section]:
                raise SettingsError(f"{section}.{str(name)[:40]}",
                                    f"{str(name)[:40]!r} cannot be changed here")
            merged[section][name] = value
    for section, cls in _CHECKS.items():
        base = dataclasses.asdict(getattr(config, section))
        try:
            checked = section_from_dict(cls, {**base, **merged[section]}, "settings",
                                        f"{section}.")
        except ConfigError as exc:
            first = exc.errors[0].removeprefix("settings: ")
            field, _, message = first.partition(": ")
            raise SettingsError(field, message) from None
        if section == "mqtt":
            problems = mqtt_problems(checked)
            if problems:
                field, _, message = problems[0].partition(": ")
                raise SettingsError(field, message)
    if secret and not merged["mqtt"]["username"] and not stored:
        raise SettingsError("mqtt.password", "a password needs a user name")
    if secret is not None:
        merged["mqtt"][secret_key] = secret
    return merged


def load(config: Config, box: SecretBox) -> str | None:
    """Apply a saved settings.json over ``config``; return the MQTT password, if one is kept.

    A broken file is named and ignored; a password that does not decrypt is named and dropped.
    """
    path = config.state_dir / SETTINGS_FILE
    if not path.exists():
        return None
    try:
        values = validated(config, json.loads(path.read_text("utf-8")), stored=True)
    except (OSError, ValueError, SettingsError) as exc:
        log.warning("%s cannot be used (%s); using the config file's values", path, exc)
        return None
    token = values["mqtt"].pop(PASSWORD_STORED, None)
    _assign(config, values)
    if not token or not config.mqtt.username:
        return None
    try:
        return box.decrypt(token)
    except SecretError as exc:
        log.error("the MQTT password in %s cannot be used: %s", path, exc)
        return None


def save(config: Config, values: dict[str, dict[str, Any]], box: SecretBox,
         password: str | None) -> None:
    """Write ``values`` (and ``password``, encrypted) to settings.json and apply them."""
    values = {section: dict(names) for section, names in values.items()}
    values["mqtt"].pop(PASSWORD, None)
    stored = dict(values)
    if password:
        stored["mqtt"] = {**values["mqtt"], PASSWORD_STORED: box.encrypt(password)}
    path: Path = config.state_dir / SETTINGS_FILE
    atomic_write(path, (json.dumps(stored, indent=2) + "\n").encode("utf-8"), 0o640)
    _assign(config, values)


def _assign(config: Config, values: dict[str, dict[str, Any]]) -> None:
    for section, names in values.items():
        target = getattr(config, section)
        for name, value in names.items():
            setattr(target, name, float(value) if isinstance(getattr(target, name), float)
                    else value)
