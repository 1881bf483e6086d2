"""Home Assistant: per region an `event` entity with the region's classes and an `image` entity
with the last snapshot; an event's payload names its class (event_type), score and id."""

from __future__ import annotations

import json

from edge_app.events import ha
from edge_app.events.keeper import Kept
from edge_app.events.store import NewEvent
from edge_app.fleet.discovery import Device
from edge_app.fleet.topics import Topics

TOPICS = Topics.of("pi")
DEVICE = Device("pi", "mobilenet", "cpu", "1.0")


def test_each_region_has_an_event_and_an_image_entity() -> None:
    messages = ha.announcements(TOPICS, DEVICE, [ha.RegionClasses("cam", "door", ("open", "closed", "open"))])
    (event_topic, event_payload, retained), (image_topic, image_payload, _) = messages
    event, image = json.loads(event_payload), json.loads(image_payload)
    assert retained and event_topic == "homeassistant/event/pi/event_cam_door/config"
    assert event["event_types"] == ["open", "closed"]
    assert event["state_topic"] == "edge-app/pi/events/cam/door"
    assert image_topic == "homeassistant/image/pi/snapshot_cam_door/config"
    assert image["image_topic"] == "edge-app/pi/events/cam/door/snapshot" and image["content_type"] == "image/jpeg"
    assert "state_topic" not in image
    assert event["device"]["identifiers"] == image["device"]["identifiers"] == ["edge_app_pi"]
    assert event["unique_id"] != image["unique_id"]


def test_an_event_fires_once_and_its_snapshot_is_retained() -> None:
    sent: list[list[ha.Message]] = []
    announce = ha.Announcer(TOPICS, sent.append)
    announce(Kept(7, NewEvent(1.0, "cam", "door", "open", "closed", 0.934567), b"\xff\xd8jpeg"))
    (topic, payload, retained), (image_topic, image, image_retained) = sent[0]
    assert topic == "edge-app/pi/events/cam/door" and not retained
    assert json.loads(payload) == {
        "event_type": "open",
        "event_id": 7,
        "camera": "cam",
        "region": "door",
        "score": 0.9346,
        "previous": "closed",
        "kind": "state",
    }
    assert image_topic.endswith("/snapshot") and image == b"\xff\xd8jpeg" and image_retained
