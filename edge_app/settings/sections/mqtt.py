"""[mqtt]: the broker, its credentials, topics and Home Assistant discovery. In a file the keys
may be written as today (`mqtt_qos`) or short (`qos`); flags and variables keep the long names."""

from __future__ import annotations

from dataclasses import dataclass

from edge_app.fleet.topics import parse_device_id, parse_topic_prefix
from edge_app.fleet.url import MqttUrl, format_mqtt_url, parse_mqtt_url
from edge_app.settings.keys import setting
from edge_app.settings.sections.panels import MQTT


@dataclass(frozen=True)
class MqttConfig:
    url: MqttUrl | None = setting(
        None,
        "Publish results to this MQTT broker, with Home Assistant discovery: "
        "mqtt://[user[:password]@]host[:port], or mqtts:// for TLS.",
        parse=parse_mqtt_url,
        show=format_mqtt_url,
        panel=MQTT,
        example="mqtt://homeassistant.local",
        name="mqtt",
    )
    username: str | None = setting(
        None,
        "MQTT user name (or put it in the URL).",
        panel=MQTT,
        example="edge-app",
        name="mqtt_username",
    )
    password: str | None = setting(
        None,
        "MQTT password; better: mqtt_password_file.",
        show=lambda _: "***",
        panel=MQTT,
        example="secret",
        name="mqtt_password",
    )
    password_file: str | None = setting(
        None,
        "Read the MQTT password from this file (e.g. a systemd credential).",
        panel=MQTT,
        example="/etc/edge-app/mqtt-password",
        name="mqtt_password_file",
    )
    ca_file: str | None = setting(
        None,
        "CA certificate (PEM) that signed the broker's, for mqtts://; unset: the system's CAs.",
        panel=MQTT,
        example="/etc/edge-app/mqtt-ca.pem",
        name="mqtt_ca_file",
    )
    topic_prefix: str | None = setting(
        None,
        "Topics go below this; unset: edge-app/<device_id>.",
        parse=parse_topic_prefix,
        panel=MQTT,
        example="edge-app/kitchen",
        name="mqtt_topic_prefix",
    )
    discovery: bool = setting(
        True,
        "Publish Home Assistant discovery configs, so the device appears by itself.",
        panel=MQTT,
        name="mqtt_discovery",
    )
    discovery_prefix: str = setting(
        "homeassistant",
        "Home Assistant's discovery prefix.",
        parse=parse_topic_prefix,
        panel=MQTT,
        name="mqtt_discovery_prefix",
    )
    keepalive: int = setting(
        60,
        "Seconds between MQTT keepalives; the broker declares the device offline after 1.5 times this.",
        minimum=5,
        maximum=3600,
        panel=MQTT,
        name="mqtt_keepalive",
    )
    qos: int = setting(
        1,
        "MQTT quality of service for everything published.",
        choices=(0, 1, 2),
        panel=MQTT,
        name="mqtt_qos",
    )
    interval: float = setting(
        30.0,
        "Publish the state at least this often, seconds (and whenever the top label changes).",
        minimum=1.0,
        maximum=3600.0,
        panel=MQTT,
        name="mqtt_interval",
    )
    snapshot: bool = setting(
        False,
        "Also publish a JPEG snapshot (retained) when the top label changes.",
        panel=MQTT,
        name="mqtt_snapshot",
    )
    device_id: str | None = setting(
        None,
        "This device's id in topics and Home Assistant (a-z, 0-9, - and _); unset: the hostname.",
        parse=parse_device_id,
        panel=MQTT,
        example="kitchen",
    )
