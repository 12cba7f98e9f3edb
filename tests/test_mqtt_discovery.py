"""The Home Assistant discovery payload, checked against what Home Assistant documents.

Key lists below are Home Assistant's, as documented (and as its MQTT integration's schemas
accept them, checked in the homeassistant 2026.11.0 wheel's components/mqtt/schemas.py,
config.py, sensor.py, binary_sensor.py and abbreviations.py):
  https://www.home-assistant.io/integrations/mqtt/#device-discovery-payload
  https://www.home-assistant.io/integrations/mqtt/#supported-abbreviations-in-mqtt-discovery-messages
  https://www.home-assistant.io/integrations/sensor.mqtt/
  https://www.home-assistant.io/integrations/binary_sensor.mqtt/
  https://developers.home-assistant.io/docs/core/entity/sensor/#available-state-classes
The device and origin blocks and the top level are strict there: one unknown key voids the
whole payload, so these checks matter.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

from affectra_edge.config import DeviceConfig
from affectra_edge.emotions import EMOTIONS
from affectra_edge.mqtt.discovery import device_config
from affectra_edge.mqtt.payloads import Topics, state_payload
from affectra_edge.records import SessionRecord
from affectra_edge.stats import compute_stats

TOP_LEVEL = {"dev", "device", "o", "origin", "cmps", "components", "availability", "avty",
             "availability_topic", "avty_t", "availability_template", "avty_tpl",
             "availability_mode", "avty_mode", "payload_available", "pl_avail",
             "payload_not_available", "pl_not_avail", "state_topic", "stat_t",
             "command_topic", "cmd_t", "qos", "encoding", "e"}
DEVICE = {"identifiers", "ids", "connections", "cns", "name", "manufacturer", "mf", "model",
          "mdl", "model_id", "mdl_id", "sw_version", "sw", "hw_version", "hw", "serial_number",
          "sn", "configuration_url", "cu", "suggested_area", "sa", "via_device"}
ORIGIN = {"name", "sw_version", "sw", "support_url", "url"}
COMMON = {"p", "platform", "state_topic", "stat_t", "value_template", "val_tpl", "qos",
          "encoding", "e", "availability", "avty", "availability_topic", "avty_t",
          "availability_template", "avty_tpl", "availability_mode", "avty_mode",
          "payload_available", "pl_avail", "payload_not_available", "pl_not_avail",
          "entity_picture", "ent_pic", "enabled_by_default", "en", "entity_category", "ent_cat",
          "icon", "ic", "json_attributes_topic", "json_attr_t", "json_attributes_template",
          "json_attr_tpl", "default_entity_id", "def_ent_id", "unique_id", "uniq_id", "name",
          "device_class", "dev_cla", "expire_after", "exp_aft", "force_update", "frc_upd"}
PLATFORM = {
    "sensor": {"unit_of_measurement", "unit_of_meas", "state_class", "stat_cla",
               "suggested_display_precision", "sug_dsp_prc", "last_reset_value_template",
               "lrst_val_tpl", "options", "ops"},
    "binary_sensor": {"payload_on", "pl_on", "payload_off", "pl_off", "off_delay", "off_dly"},
}
STATE_CLASSES = {"measurement", "measurement_angle", "total", "total_increasing"}
ENTITY_ID = re.compile(r"^(sensor|binary_sensor)\.(?!_)(?!.*__)[a-z0-9_]+(?<!_)$")
TOPIC_ID = re.compile(r"^[a-zA-Z0-9_-]+$")


def payload(cameras=("door", "side"), removed=("old",)) -> tuple[Topics, dict]:
    topics = Topics("affectra", "lobby-1", "homeassistant")
    config = device_config(topics, DeviceConfig(id="lobby-1", name="Lobby"), list(cameras),
                           list(removed), "0.3.0")
    return topics, json.loads(json.dumps(config))  # exactly what goes on the wire


def test_top_level_device_and_origin_hold_only_documented_keys():
    topics, config = payload()
    assert set(config) <= TOP_LEVEL, set(config) - TOP_LEVEL
    assert set(config["dev"]) <= DEVICE and config["dev"]["ids"] == ["affectra_lobby-1"]
    assert set(config["o"]) <= ORIGIN and config["o"]["name"]
    assert config["availability_topic"] == topics.availability
    object_id = topics.discovery.split("/")[2]
    assert topics.discovery == f"homeassistant/device/{object_id}/config"
    assert TOPIC_ID.match(object_id)


def test_every_component_follows_its_platform_schema():
    _, config = payload(removed=())
    unique_ids = set()
    for key, component in config["cmps"].items():
        assert TOPIC_ID.match(key), key
        platform = component["p"]
        allowed = COMMON | PLATFORM[platform]
        assert set(component) <= allowed, (key, set(component) - allowed)
        assert component["unique_id"].startswith("affectra_lobby-1_")
        unique_ids.add(component["unique_id"])
        assert ENTITY_ID.match(component["default_entity_id"]), component["default_entity_id"]
        assert component["default_entity_id"].startswith(f"{platform}.affectra_lobby_1_")
        assert component["state_topic"].startswith("affectra/lobby-1/")
        assert component.get("entity_category", "diagnostic") == "diagnostic"
        if "state_class" in component:
            assert component["state_class"] in STATE_CLASSES
        if component.get("device_class") == "enum":
            assert component["options"] and "state_class" not in component
            assert "unit_of_measurement" not in component
        else:
            assert "options" not in component
        if component.get("device_class") == "duration":
            assert component["unit_of_measurement"] in {"d", "h", "min", "s", "ms"}
    assert len(unique_ids) == len(config["cmps"])
    shares = [c for c in config["cmps"].values() if c.get("unit_of_measurement") == "%"]
    assert len(shares) == len(EMOTIONS)
    assert all(c["state_class"] == "measurement" for c in shares)
    assert config["cmps"]["viewer"]["p"] == "binary_sensor"
    assert {"camera_door_status", "camera_side_status"} <= set(config["cmps"])


def test_a_removed_camera_is_only_its_platform():
    _, config = payload(cameras=("door",), removed=("side",))
    assert config["cmps"]["camera_side_status"] == {"p": "sensor"}


def test_value_templates_read_fields_the_state_payload_has():
    now = datetime.now(UTC)
    shares = {e: 100.0 / len(EMOTIONS) for e in EMOTIONS}
    record = SessionRecord("0000abcd", "door", now - timedelta(seconds=5), now, 5.0, 40,
                           "happy", shares)
    state = json.loads(state_payload(compute_stats([record], now).as_dict()))
    topics, config = payload(removed=())
    for key, component in config["cmps"].items():
        if component["state_topic"] != topics.state:
            continue
        (path,) = re.findall(r"value_json\.([a-z_.]+)", component["value_template"])
        value = state
        for part in path.split("."):
            assert part in value, (key, path)
            value = value[part]
        assert value is not None, key
