from pathlib import Path

import pytest

from affectra_edge.config import Config, ConfigError, config_from_dict, load_config
from tests.conftest import run_affectra


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "affectra.toml"
    path.write_text(text)
    return path


def test_defaults_need_no_file():
    config = load_config(None)
    assert isinstance(config, Config)
    assert config.cameras.active == "demo"
    assert config.camera("demo").kind == "demo"
    assert config.mqtt.host == "" and config.mqtt.active is False  # off until a host is set


def test_a_full_file_loads_typed_values(tmp_path):
    path = write(tmp_path, """
[device]
id = "lobby-1"
[cameras]
active = "door"
[[cameras.sources]]
id = "door"
kind = "file"
source = "/tmp/door.avi"
loop = false
[sessions]
min_dwell_s = 2
absence_timeout_s = 3.5
[storage]
retention_days = 30
""")
    config = load_config(path)
    assert config.device.id == "lobby-1"
    assert config.camera("door").loop is False
    assert config.sessions.min_dwell_s == 2.0 and isinstance(config.sessions.min_dwell_s, float)
    assert config.storage.retention_days == 30
    assert config.source_file == str(path)


@pytest.mark.parametrize("text, expected", [
    ("[vision]\nmin_face_px = 40\ncolour = 3\n", "vision.colour: unknown key"),
    ("[sessions]\nabsence_timeout_s = -1\n", "sessions.absence_timeout_s: -1 is out of bounds"),
    ("[web]\nport = \"80\"\n", "web.port: expected an integer"),
    ("[vision]\ndetector = \"yolo\"\n", "vision.detector: 'yolo' is not one of"),
    ("[mqtt]\nhost = \"mqtt://broker:1883\"\n", "mqtt.host: 'mqtt://broker:1883' must be a host"),
    ("[mqtt]\nbase_topic = \"a/#\"\n", "mqtt.base_topic: 'a/#' must be topic levels"),
    ("[mqtt]\nbase_topic = \"/a\"\n", "mqtt.base_topic: '/a' must be topic levels"),
    ("[mqtt]\nca_file = \"/ca.pem\"\n", "mqtt.ca_file: is only used with TLS"),
    ("[mqtt]\ntls = true\nclient_cert = \"/c.pem\"\n", "mqtt.client_key: a client certificate"),
    ("[mqtt]\npassword = \"x\"\n", "mqtt.password: unknown key"),
    ("[cameras]\nactive = \"nope\"\n", "cameras.active: 'nope' is not the id"),
    ("[[cameras.sources]]\nid = \"Bad Id\"\n", "cameras.sources[0].id: 'Bad Id' must be"),
    ("[[cameras.sources]]\nkind = \"file\"\n", "cameras.sources[0].source: a file camera needs"),
    ("weather = 1\n", "weather: unknown key"),
    ("[web]\nenabled = 1\n", "web.enabled: expected true or false"),
])
def test_each_error_names_the_key_and_the_file(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert any(line.startswith(f"{path}: ") and expected in line for line in caught.value.errors), \
        caught.value.errors


def test_all_errors_are_reported_at_once():
    with pytest.raises(ConfigError) as caught:
        config_from_dict({"web": {"port": -1, "live_fps": 1000}, "x": 1}, "f.toml")
    assert len(caught.value.errors) == 3


def test_missing_and_broken_files(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[vision\n"))


def test_check_config_command(tmp_path):
    good = write(tmp_path, "[storage]\nretention_days = 7\n")
    result = run_affectra("check-config", "--config", str(good))
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text("[storage]\nretention_days = 0\nfoo = 1\n")
    result = run_affectra("check-config", "--config", str(bad))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2
    assert all(str(bad) in line for line in lines)
    assert "storage.retention_days" in result.stderr and "storage.foo" in result.stderr
