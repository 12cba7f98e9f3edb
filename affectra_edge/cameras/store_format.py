"""The on-disk format of the camera store (``cameras.json``): parse and serialise.

Version 1: ``{"version": 1, "selected": id|null, "fixed_enabled": {id: bool}, "cameras": [...]}``;
a camera whose URL holds a secret has ``source_encrypted`` (Fernet) and ``display_source``
(redacted) instead of ``source``.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from affectra_edge.config import CameraConfig, ConfigError, camera_from_dict

FORMAT_VERSION = 1
_TOP_KEYS = {"version", "selected", "fixed_enabled", "cameras"}


@dataclass(frozen=True)
class Record:
    camera: CameraConfig  # when ``token`` is set, ``camera.source`` is the redacted form
    token: str | None = None  # the real source, Fernet-encrypted


@dataclass
class StoreState:
    records: dict[str, Record]
    fixed_enabled: dict[str, bool]
    selected: str | None

    def copy(self) -> StoreState:
        return StoreState(dict(self.records), dict(self.fixed_enabled), self.selected)


class BadStoreFile(Exception):
    pass


def serialise_store(state: StoreState) -> bytes:
    document = {
        "version": FORMAT_VERSION,
        "selected": state.selected,
        "fixed_enabled": state.fixed_enabled,
        "cameras": [record_document(r) for r in state.records.values()],
    }
    return (json.dumps(document, indent=2) + "\n").encode("utf-8")


def record_document(record: Record) -> dict[str, Any]:
    document = dataclasses.asdict(record.camera)
    if record.token is not None:
        document["display_source"] = document.pop("source")
        document["source_encrypted"] = record.token
    return document


def parse_store(raw: bytes) -> StoreState:
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadStoreFile(f"not valid JSON ({exc})") from None
    if not isinstance(document, dict):
        raise BadStoreFile("expected a JSON object at the top level")
    if document.get("version") != FORMAT_VERSION:
        raise BadStoreFile(f"format version {document.get('version')!r} is not "
                       f"{FORMAT_VERSION}, the one this program reads")
    unknown = set(document) - _TOP_KEYS
    if unknown:
        raise BadStoreFile(f"unknown keys {', '.join(sorted(unknown))}")
    selected = document.get("selected")
    if selected is not None and not isinstance(selected, str):
        raise BadStoreFile("selected: expected a camera id or null")
    fixed_enabled = document.get("fixed_enabled", {})
    if not isinstance(fixed_enabled, dict) or not all(
            isinstance(k, str) and isinstance(v, bool) for k, v in fixed_enabled.items()):
        raise BadStoreFile("fixed_enabled: expected an object of camera id to true or false")
    items = document.get("cameras", [])
    if not isinstance(items, list):
        raise BadStoreFile("cameras: expected a list")
    records: dict[str, Record] = {}
    for index, item in enumerate(items):
        record = _parse_record(item, index)
        if record.camera.id in records:
            raise BadStoreFile(f"cameras[{index}]: camera id {record.camera.id!r} is used twice")
        records[record.camera.id] = record
    return StoreState(records, fixed_enabled, selected)


def _parse_record(item: Any, index: int) -> Record:
    where = f"cameras[{index}]"
    if not isinstance(item, dict):
        raise BadStoreFile(f"{where}: expected an object")
    item = dict(item)
    token, shown = item.pop("source_encrypted", None), item.pop("display_source", None)
    if token is not None or shown is not None:
        if not isinstance(token, str) or not isinstance(shown, str) or "source" in item:
            raise BadStoreFile(f"{where}: an encrypted source needs source_encrypted and "
                           f"display_source, and no plain source")
        item["source"] = shown
    try:
        return Record(camera_from_dict(item, where), token)
    except ConfigError as exc:
        raise BadStoreFile("; ".join(exc.errors)) from None
