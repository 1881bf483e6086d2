"""Home Assistant's view of events, over MQTT discovery: per region an `event` entity (its
event_types are the region's classes; each event's payload names the class, score and event id)
and an `image` entity showing the last event's snapshot (retained, so it survives restarts).

Pure: this module makes (topic, payload, retain) messages; the MQTT output publishes them, the
configs with its other announcements and the rest as events are kept.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from edge_app.fleet import discovery
from edge_app.fleet.topics import Topics, slug

if TYPE_CHECKING:
    from edge_app.events.keeper import Kept

Message = tuple[str, bytes, bool]  # topic, payload, retained


@dataclass(frozen=True)
class RegionClasses:
    camera: str
    region: str
    classes: tuple[str, ...]


def event_topic(topics: Topics, camera: str, region: str) -> str:
    return f"{topics.prefix}/events/{slug(camera)}/{slug(region)}"


def image_topic(topics: Topics, camera: str, region: str) -> str:
    return f"{event_topic(topics, camera, region)}/snapshot"


def _object_id(kind: str, camera: str, region: str) -> str:
    return f"{kind}_{slug(camera)}_{slug(region)}"


def configs(topics: Topics, device: discovery.Device, region: RegionClasses) -> list[tuple[str, dict[str, object]]]:
    """The discovery configs of one region's event and image entities."""
    where = f"{region.region}" if region.camera in ("", "default") else f"{region.camera} {region.region}"
    event = discovery.config(
        discovery.Entity(
            "event",
            _object_id("event", region.camera, region.region),
            f"{where} event",
            (("event_types", list(dict.fromkeys(region.classes))), ("icon", "mdi:timeline-clock")),
            attributes=False,
        ),
        topics,
        device,
    )
    event["state_topic"] = event_topic(topics, region.camera, region.region)
    image = discovery.config(
        discovery.Entity("image", _object_id("snapshot", region.camera, region.region), f"{where} snapshot", ()),
        topics,
        device,
    )
    image.pop("state_topic", None)
    image.pop("topic", None)
    image["image_topic"] = image_topic(topics, region.camera, region.region)
    image["content_type"] = "image/jpeg"
    return [
        (topics.discovery("event", _object_id("event", region.camera, region.region)), event),
        (topics.discovery("image", _object_id("snapshot", region.camera, region.region)), image),
    ]


def announcements(topics: Topics, device: discovery.Device, regions: Iterable[RegionClasses]) -> list[Message]:
    return [
        (topic, json.dumps(config, separators=(",", ":")).encode(), True)
        for region in regions
        for topic, config in configs(topics, device, region)
    ]


def event_messages(
    topics: Topics,
    event_id: int,
    camera: str,
    region: str,
    fields: Sequence[tuple[str, object]],
    snapshot: bytes | None,
) -> list[Message]:
    """An event as Home Assistant fires it (not retained: it happened once), and its snapshot
    (retained: the image entity shows the last one). `fields` holds at least label and score."""
    values = dict(fields)
    payload = {"event_type": values.pop("label"), "event_id": event_id, "camera": camera, "region": region, **values}
    messages: list[Message] = [
        (event_topic(topics, camera, region), json.dumps(payload, separators=(",", ":")).encode(), False)
    ]
    if snapshot is not None:
        messages.append((image_topic(topics, camera, region), snapshot, True))
    return messages


class Announcer:
    """The keeper's `announce`: each kept event handed to `publish` as its MQTT messages."""

    def __init__(self, topics: Topics, publish: Callable[[list[Message]], None]) -> None:
        self.topics = topics
        self.publish = publish

    def __call__(self, kept: Kept) -> None:
        row = kept.row
        fields = (("label", row.label), ("score", round(row.score, 4)), ("previous", row.previous), ("kind", row.kind))
        self.publish(event_messages(self.topics, kept.id, row.camera, row.region, fields, kept.snapshot))
