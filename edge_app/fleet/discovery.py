"""Home Assistant MQTT discovery: the retained configs that make the device appear by itself.

One device (identified by `edge_app_<device_id>`) with a label sensor, fps and inference-time
sensors that read the same retained state JSON, and, with snapshots on, a camera entity; and a
`sensor` per region (device_class enum, its classes as options) on the region's own retained
state topic, with the score and top-k as attributes.
Entity ids are set with `default_entity_id` (`object_id` is deprecated since HA 2025.10).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from edge_app.fleet.topics import OFFLINE, ONLINE, Topics, slug

ORIGIN = "edge-app"


@dataclass(frozen=True)
class Device:
    """What Home Assistant shows about the device itself."""

    device_id: str
    model: str  # the model's name, e.g. "tf2_mobilenet_v2_1.0_224_ptq"
    delegate: str  # cpu or edgetpu
    version: str  # edge-app's

    @property
    def identifier(self) -> str:
        return f"edge_app_{self.device_id}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "identifiers": [self.identifier],
            "name": f"edge-app {self.device_id}",
            "model": f"{self.model} ({self.delegate})",
            "manufacturer": "edge-app",
            "sw_version": self.version,
        }


@dataclass(frozen=True)
class Entity:
    component: str  # sensor, camera
    object_id: str  # the last level of its discovery topic
    name: str
    fields: tuple[tuple[str, Any], ...]  # what this entity adds to the common part
    attributes: bool = False  # the whole state JSON (score, top-k, frame) as its attributes
    topic: str | None = None  # its own state topic (a region's); None: the device's


SENSORS = (
    Entity(
        "sensor",
        "label",
        "Label",
        (
            ("value_template", "{{ value_json.label or 'none' }}"),
            ("icon", "mdi:eye"),
        ),
        attributes=True,
    ),
    Entity(
        "sensor",
        "fps",
        "Video fps",
        (
            ("value_template", "{{ value_json.fps }}"),
            ("unit_of_measurement", "fps"),
            ("state_class", "measurement"),
            ("icon", "mdi:video"),
            ("entity_category", "diagnostic"),
        ),
    ),
    Entity(
        "sensor",
        "inference_ms",
        "Inference time",
        (
            ("value_template", "{{ value_json.inference_ms }}"),
            ("unit_of_measurement", "ms"),
            ("device_class", "duration"),
            ("state_class", "measurement"),
            ("entity_category", "diagnostic"),
        ),
    ),
)
SNAPSHOT = Entity("camera", "snapshot", "Snapshot", ())


def entities(snapshot: bool) -> tuple[Entity, ...]:
    return (*SENSORS, SNAPSHOT) if snapshot else SENSORS


def config(entity: Entity, topics: Topics, device: Device) -> dict[str, Any]:
    """The discovery payload of one entity."""
    unique_id = f"{device.identifier}_{entity.object_id}"
    payload: dict[str, Any] = {
        "name": entity.name,
        "unique_id": unique_id,
        "default_entity_id": f"{entity.component}.{unique_id}",
    }
    state_topic = entity.topic or topics.state
    if entity.component == "camera":
        payload["topic"] = topics.snapshot
    else:
        payload["state_topic"] = state_topic
    if entity.attributes:
        payload["json_attributes_topic"] = state_topic
    payload.update(entity.fields)
    payload["availability"] = [
        {"topic": topics.availability, "payload_available": ONLINE, "payload_not_available": OFFLINE}
    ]
    payload["device"] = device.as_dict()
    payload["origin"] = {"name": ORIGIN, "sw_version": device.version}
    return payload


def configs(topics: Topics, device: Device, snapshot: bool) -> list[tuple[str, dict[str, Any]]]:
    """(topic, payload) of every entity, in the order they are published."""
    return [
        (topics.discovery(entity.component, entity.object_id), config(entity, topics, device))
        for entity in entities(snapshot)
    ]


def region_entity(topics: Topics, camera: str, region: str, classes: Sequence[str], name: str = "") -> Entity:
    """A region's verified state as an enum sensor: Home Assistant offers its classes in automations."""
    return Entity(
        "sensor",
        region_object_id(camera, region),
        name or region,
        (
            ("value_template", "{{ value_json.state }}"),  # null renders "None": HA shows unknown
            ("device_class", "enum"),
            ("options", list(dict.fromkeys(classes))),
            ("icon", "mdi:selection-search"),
        ),
        attributes=True,
        topic=topics.region(camera, region),
    )


def region_object_id(camera: str, region: str) -> str:
    return f"region_{slug(camera)}_{slug(region)}"
