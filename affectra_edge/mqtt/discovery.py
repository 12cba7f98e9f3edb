"""Home Assistant MQTT device discovery: one retained message describes the whole device.

Topic ``<discovery_prefix>/device/affectra_<device_id>/config``; payload with ``dev`` (the
device), ``o`` (origin: this software) and ``cmps`` (one entry per entity), as documented at
https://www.home-assistant.io/integrations/mqtt/#device-discovery-payload . Availability is
shared at the top level (Home Assistant copies it into every component), so every entity
follows our ``availability`` topic; ``qos`` is repeated per component because Home Assistant
only copies it down since 2026.5 (core PR #170195). Every ``unique_id`` and
``default_entity_id`` carries the device id, so several boxes on one broker never collide.

A removed camera's entity is deleted the documented way, with that component reduced to
``{"p": "sensor"}``. It stays so in the retained payload while the daemon runs, so a Home
Assistant that was offline at the time deletes it too when it comes back.
"""

from __future__ import annotations

import json
import re
from typing import Any

from affectra_edge.emotions import EMOTIONS
from affectra_edge.mqtt.payloads import OFFLINE, ONLINE, Topics

CAMERA_STATES = ["online", "offline", "stalled", "disabled"]


def device_payload(topics: Topics, device, cameras: list[str], removed_cameras: list[str],
                   version: str) -> bytes:
    return json.dumps(device_config(topics, device, cameras, removed_cameras, version),
                      separators=(",", ":")).encode("utf-8")


def device_config(topics: Topics, device, cameras: list[str], removed_cameras: list[str],
                  version: str) -> dict[str, Any]:
    prefix = f"affectra_{device.id}"
    components: dict[str, dict[str, Any]] = {}

    def add(key: str, platform: str, name: str, **options: Any) -> None:
        components[key] = {"p": platform, "name": name, "unique_id": f"{prefix}_{key}",
                           "default_entity_id": f"{platform}.{entity_object_id(prefix, key)}",
                           "qos": 1, **options}

    def summary(key: str, name: str, template: str, **options: Any) -> None:
        add(key, "sensor", name, state_topic=topics.state,
            value_template="{{ " + template + " }}", **options)

    summary("visitors_today", "Visitors today", "value_json.sessions_today",
            state_class="total_increasing", unit_of_measurement="visitors", icon="mdi:account-group")
    # Not total_increasing: the total shrinks when retention prunes or data is cleared.
    summary("visitors_total", "Visitors total", "value_json.sessions_total",
            state_class="total", unit_of_measurement="visitors", icon="mdi:account-multiple")
    summary("viewers_now", "Viewers now", "value_json.viewers_now", state_class="measurement",
            unit_of_measurement="viewers", icon="mdi:eye")
    summary("top_emotion", "Most frequent emotion", "value_json.top_emotion",
            device_class="enum", options=list(EMOTIONS), icon="mdi:emoticon-outline")
    summary("average_duration", "Average session duration", "value_json.average_duration_s",
            device_class="duration", unit_of_measurement="s", state_class="measurement",
            suggested_display_precision=1)
    for emotion in EMOTIONS:
        summary(f"share_{emotion}", f"{emotion.capitalize()} share",
                f"value_json.shares.{emotion}", unit_of_measurement="%",
                state_class="measurement", suggested_display_precision=1,
                icon="mdi:chart-donut")
    add("viewer", "binary_sensor", "Viewer present", state_topic=topics.viewer,
        device_class="occupancy", payload_on="ON", payload_off="OFF")
    for camera_id in cameras:
        add(f"camera_{camera_id}_status", "sensor", f"Camera {camera_id}",
            state_topic=topics.camera_status(camera_id), device_class="enum",
            options=CAMERA_STATES, entity_category="diagnostic", icon="mdi:cctv")
    for camera_id in removed_cameras:
        if camera_id not in cameras:
            components[f"camera_{camera_id}_status"] = {"p": "sensor"}
    return {
        "dev": {"ids": [prefix], "name": device.name, "mf": "Affectra", "mdl": "Affectra Edge",
                "sw": version},
        "o": {"name": "affectra-edge", "sw": version},
        "cmps": components,
        "availability_topic": topics.availability,
        "payload_available": ONLINE,
        "payload_not_available": OFFLINE,
        "qos": 1,
    }


def entity_object_id(*parts: str) -> str:
    """An entity id's object part: Home Assistant allows only a-z, 0-9 and single ``_``."""
    text = re.sub(r"[^a-z0-9]+", "_", "_".join(parts).lower())
    return text.strip("_") or "affectra"
