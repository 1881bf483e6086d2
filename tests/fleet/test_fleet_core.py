"""The fleet's pure parts, without I/O: the broker URL, device id and topics, Home Assistant
discovery and state payloads, change detection, the outbox that drops the oldest, and the MQTT
output's settings and missing-extra errors (its broker tests are in test_mqtt_sink.py)."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

import pytest

from edge_app.errors import EdgeAppError
from edge_app.fleet import discovery
from edge_app.fleet.outbox import Outbox
from edge_app.fleet.state import ChangeGate, state_payload
from edge_app.fleet.topics import Topics, parse_device_id, parse_topic_prefix, slug
from edge_app.fleet.url import MqttUrl, parse_mqtt_url
from edge_app.frames import Label, Result
from edge_app.settings import resolve
from edge_app.settings.text import describe
from edge_app.sinks.mqtt import MqttOptions, MqttSink, options_from
from tests.helpers.pipeline_fakes import fake_state


def result(seq: int, *labels: tuple[int, str, float]) -> Result:
    return Result(seq, 1700000000.0 + seq, 0.0, tuple(Label(i, text, score) for i, text, score in labels), 3.25)


# -- the URL ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mqtt://broker.local", MqttUrl("broker.local", 1883)),
        ("mqtts://broker.local", MqttUrl("broker.local", 8883, tls=True)),
        ("MQTT://10.0.0.2:1884/", MqttUrl("10.0.0.2", 1884)),
        ("mqtt://cam:s%3Acret%40x@broker:1", MqttUrl("broker", 1, username="cam", password="s:cret@x")),
        ("mqtt://cam@broker", MqttUrl("broker", 1883, username="cam")),
        ("mqtts://[::1]:8884", MqttUrl("::1", 8884, tls=True)),
    ],
)
def test_mqtt_urls_parse_with_default_ports_and_decoded_credentials(text: str, expected: MqttUrl) -> None:
    assert parse_mqtt_url(text) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("broker.local", "no scheme"),
        ("http://broker.local", "scheme must be mqtt or mqtts"),
        ("mqtt://broker:port", "bad MQTT URL"),
        ("mqtt://broker:70000", "bad MQTT URL"),
        ("mqtt://", "no host"),
        ("mqtt://broker/edge-app", "no path"),
    ],
)
def test_bad_mqtt_urls_are_one_line_with_an_example(text: str, problem: str) -> None:
    with pytest.raises(EdgeAppError) as error:
        parse_mqtt_url(text)
    assert problem in error.value.message and "mqtt://" in error.value.hint


def test_the_url_as_text_never_shows_the_password() -> None:
    url = parse_mqtt_url("mqtts://cam:secret@[::1]")
    assert str(url) == "mqtts://cam:***@[::1]:8883"
    assert parse_mqtt_url(url.text(redact=False)) == url


def test_mqtt_settings_come_from_the_config_file_and_config_show_hides_secrets(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[mqtt]\nmqtt = "mqtt://cam:pw@broker"\nmqtt_password_file = "/run/pw"\nmqtt_qos = 0\ndevice_id = "porch"\n'
    )
    settings = resolve({"mqtt_password": "other"}, config, environ={})
    assert settings.mqtt.url == MqttUrl("broker", 1883, username="cam", password="pw")
    assert (settings.mqtt.qos, settings.mqtt.device_id, settings.mqtt.discovery) == (0, "porch", True)
    rows = {name: value for name, value, _ in describe(settings)}
    assert rows["mqtt.mqtt"] == '"mqtt://cam:***@broker:1883"' and rows["mqtt.mqtt_password"] == '"***"'
    with pytest.raises(EdgeAppError, match="MQTT_QOS must be one of 0, 1, 2"):
        resolve({}, config, environ={"EDGE_APP_MQTT_QOS": "3"})
    with pytest.raises(EdgeAppError, match="device id"):
        resolve({"device_id": "Porch Cam"}, None, environ={})


# -- device id and topics --------------------------------------------------------------------


def test_device_ids_are_slugs() -> None:
    assert slug("Kitchen Pi.local") == "kitchen_pi_local"
    assert slug("RPI-5") == "rpi-5"
    assert slug("...") == "edge_app"
    assert parse_device_id("porch-2") == "porch-2"
    with pytest.raises(EdgeAppError) as error:
        parse_device_id("Porch Cam")
    assert error.value.hint == "e.g. porch_cam"


@pytest.mark.parametrize("bad", ["a/+/b", "a/#", "/edge-app", "edge-app/", "a//b", ""])
def test_topic_prefixes_have_no_wildcards_or_empty_levels(bad: str) -> None:
    with pytest.raises(EdgeAppError):
        parse_topic_prefix(bad)


def test_topic_names() -> None:
    topics = Topics.of("porch")
    assert (topics.availability, topics.state, topics.snapshot) == (
        "edge-app/porch/availability",
        "edge-app/porch/state",
        "edge-app/porch/snapshot",
    )
    assert topics.ha_status == "homeassistant/status"
    assert topics.discovery("sensor", "label") == "homeassistant/sensor/porch/label/config"
    custom = Topics.of("porch", "house/cams/porch", "ha")
    assert (
        custom.state == "house/cams/porch/state" and custom.discovery("sensor", "fps") == "ha/sensor/porch/fps/config"
    )


# -- Home Assistant discovery ------------------------------------------------------------------


def test_discovery_makes_one_device_with_a_label_sensor_that_reads_the_state() -> None:
    topics, device = Topics.of("porch"), discovery.Device("porch", "tf2_mobilenet_v2_1.0_224_ptq", "cpu", "0.1.0")
    configs = dict(discovery.configs(topics, device, snapshot=False))
    assert list(configs) == [f"homeassistant/sensor/porch/{name}/config" for name in ("label", "fps", "inference_ms")]
    label = configs["homeassistant/sensor/porch/label/config"]
    assert label["unique_id"] == "edge_app_porch_label"
    assert label["default_entity_id"] == "sensor.edge_app_porch_label" and "object_id" not in label
    assert label["state_topic"] == label["json_attributes_topic"] == "edge-app/porch/state"
    assert label["availability"] == [
        {"topic": "edge-app/porch/availability", "payload_available": "online", "payload_not_available": "offline"}
    ]
    assert label["device"] == {
        "identifiers": ["edge_app_porch"],
        "name": "edge-app porch",
        "model": "tf2_mobilenet_v2_1.0_224_ptq (cpu)",
        "manufacturer": "edge-app",
        "sw_version": "0.1.0",
    }
    assert label["origin"]["name"] == "edge-app"
    assert len({json.dumps(c["device"]) for c in configs.values()}) == 1  # all on one device
    assert configs["homeassistant/sensor/porch/inference_ms/config"]["unit_of_measurement"] == "ms"


def test_snapshots_add_a_camera() -> None:
    configs = dict(discovery.configs(Topics.of("porch"), discovery.Device("porch", "m", "cpu", "1"), snapshot=True))
    camera = configs["homeassistant/camera/porch/snapshot/config"]
    assert camera["topic"] == "edge-app/porch/snapshot" and "state_topic" not in camera


# -- state and change detection ----------------------------------------------------------------


def test_the_state_payload() -> None:
    payload = json.loads(state_payload(result(7, (89, "macaw", 0.971234), (90, "parrot", 0.02)), 29.91, 14.2))
    assert payload == {
        "label": "macaw",
        "score": 0.9712,
        "index": 89,
        "top": [{"index": 89, "label": "macaw", "score": 0.971234}, {"index": 90, "label": "parrot", "score": 0.02}],
        "inference_ms": 3.25,
        "ts": 1700000007.0,
        "frame": 7,
        "fps": 29.91,
        "inference_fps": 14.2,
    }
    empty = json.loads(state_payload(result(8)))
    assert (empty["label"], empty["score"], empty["index"], empty["top"]) == (None, None, None, [])


def test_only_top1_changes_are_news() -> None:
    gate = ChangeGate()
    seen = [
        gate.changed(r)
        for r in (
            result(0, (1, "a", 0.5)),
            result(1, (1, "a", 0.6), (2, "b", 0.1)),
            result(2, (2, "b", 0.7)),
            result(3),
            result(4),
            result(5, (2, "b", 0.9)),
        )
    ]
    assert seen == [True, False, True, True, False, True]


# -- the outbox --------------------------------------------------------------------------------


def test_a_full_outbox_drops_the_oldest_and_counts() -> None:
    box: Outbox[int] = Outbox(3)
    for item in range(5):
        box.put(item)
    assert len(box) == 3 and box.dropped == 2
    assert [box.take(lambda: True, 0) for _ in range(4)] == [2, 3, 4, None]


def test_the_outbox_holds_items_until_ready_and_wakes_its_reader() -> None:
    box: Outbox[str] = Outbox(3)
    box.put("state")
    assert box.take(lambda: False, 0.01) is None and len(box) == 1  # not connected: kept
    got: list[str | None] = []
    reader = threading.Thread(target=lambda: got.append(box.take(lambda: False, 30.0)))
    reader.start()
    box.wake()  # e.g. connected, or stopping: the reader returns long before its timeout
    reader.join(10)
    assert not reader.is_alive() and got == [None]
    assert box.take(lambda: True, 0) == "state"


# -- the MQTT output's settings and its missing extra ---------------------------------------------


def test_settings_combine_into_options(tmp_path: Path) -> None:
    password = tmp_path / "pw"
    password.write_text("s3cret\n")
    settings = resolve(
        {"mqtt": "mqtt://cam@broker", "mqtt_password_file": str(password), "device_id": "porch"}, None, environ={}
    )
    options = options_from(settings.mqtt)
    assert (options.username, options.password, options.topics.state) == ("cam", "s3cret", "edge-app/porch/state")
    assert options_from(
        resolve({"mqtt": "mqtt://broker"}, None, environ={}).mqtt
    ).topics.device_id  # the hostname's slug

    with pytest.raises(EdgeAppError, match="password is given twice"):
        options_from(resolve({"mqtt": "mqtt://cam:pw@broker", "mqtt_password": "x"}, None, environ={}).mqtt)
    with pytest.raises(EdgeAppError, match="two MQTT user names"):
        options_from(resolve({"mqtt": "mqtt://cam@broker", "mqtt_username": "other"}, None, environ={}).mqtt)
    with pytest.raises(EdgeAppError, match="cannot read the MQTT password file"):
        options_from(
            resolve({"mqtt": "mqtt://broker", "mqtt_password_file": str(tmp_path / "none")}, None, environ={}).mqtt
        )
    with pytest.raises(EdgeAppError, match="CA file .* not found"):
        options_from(
            resolve({"mqtt": "mqtts://broker", "mqtt_ca_file": str(tmp_path / "none.pem")}, None, environ={}).mqtt
        )


def test_without_paho_one_line_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "paho.mqtt.client", None)  # import fails as if not installed
    with pytest.raises(EdgeAppError) as error:
        MqttSink(
            MqttOptions(parse_mqtt_url("mqtt://broker"), Topics.of("porch")),
            fake_state(),
        )
    assert "paho-mqtt" in error.value.message and "pip install 'edge-app[mqtt]'" in error.value.hint
