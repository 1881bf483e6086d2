"""Home Assistant per region, against Debian's mosquitto: an enum sensor per region with its
classes as options, the verified state retained on the region's topic with score and top-k as
attributes, published again when the device reconnects or HA comes online (a restored state
included), and a deleted region's sensor removed."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from edge_app.bus import StateChanged
from edge_app.fleet import discovery
from edge_app.fleet.topics import Topics
from edge_app.fleet.url import parse_mqtt_url
from edge_app.frames import Frame
from edge_app.regions.board import RegionBoard
from edge_app.regions.spec import Box, RegionSpec
from edge_app.regions.states import SavedState
from edge_app.sinks.mqtt import MqttOptions, MqttSink
from tests.helpers.fleet import Broker, broker, subscribers  # noqa: F401  (fixtures)
from tests.helpers.pipeline_fakes import fake_state

pytestmark = pytest.mark.slow  # a real broker
DEVICE = "regiontest"
TOPICS = Topics.of(DEVICE)
DOOR = RegionSpec("door", Box(0.1, 0.1, 0.5, 0.9), on_motion=True)
BINS = RegionSpec("bins", Box(0.6, 0.5, 0.9, 0.9), every=30)
DOOR_CONFIG = f"homeassistant/sensor/{DEVICE}/region_cam_door/config"
BINS_CONFIG = f"homeassistant/sensor/{DEVICE}/region_cam_bins/config"


def test_the_region_entity_is_an_enum_sensor_on_its_own_topic() -> None:
    device = discovery.Device(DEVICE, "m", "cpu", "1")
    entity = discovery.region_entity(TOPICS, "cam", "door", ["open", "closed", "open"])
    config = discovery.config(entity, TOPICS, device)
    assert config["device_class"] == "enum" and config["options"] == ["open", "closed"]
    assert config["state_topic"] == config["json_attributes_topic"] == f"edge-app/{DEVICE}/regions/cam/door"
    assert config["unique_id"] == f"edge_app_{DEVICE}_region_cam_door" and config["name"] == "door"
    assert config["value_template"] == "{{ value_json.state }}"


def changed(region: RegionSpec, state: str, previous: str | None, score: float) -> StateChanged:
    frame = Frame(np.zeros((2, 2, 3), np.uint8), 7)
    return StateChanged(
        "cam", region.name, state, previous, score, frame, region.box, 1_700_000_000.5, ((state, score),)
    )


def retained(port: int, subscribers, topic: str) -> list:
    late = subscribers(port)
    late.wait_for(topic, timeout=20)
    return [m for m in late.on(topic) if m.retain]


def test_region_sensors_and_retained_states(broker: Broker, subscribers) -> None:
    board = RegionBoard()
    board.set_regions("cam", (DOOR, BINS), {"bins": SavedState("out", 1_600_000_000.0, 0.88)})
    board.set_classes("cam", "door", ["open", "closed"])
    board.set_classes("cam", "bins", ["in", "out"])
    watch = subscribers(broker.port)
    sink = MqttSink(MqttOptions(parse_mqtt_url(broker.url), TOPICS), fake_state(), board)
    sink.start(threading.Event())
    try:
        config = watch.wait_for(DOOR_CONFIG)
        assert config is not None and config.json()["options"] == ["open", "closed"]
        # the state restored from the state dir is published (and retained) straight away
        bins = watch.wait_for(TOPICS.region("cam", "bins"))
        assert bins is not None and bins.json()["state"] == "out" and bins.json()["restored"] is True
        board.handle(changed(DOOR, "open", None, 0.93))
        board.handle(changed(DOOR, "closed", "open", 0.97))
        assert watch.wait(lambda w: len(w.on(TOPICS.region("cam", "door"))) >= 2)
        door = [m.json() for m in watch.on(TOPICS.region("cam", "door"))]
        assert [d["state"] for d in door] == ["open", "closed"]
        assert door[-1]["score"] == 0.97 and door[-1]["top"] == [{"label": "closed", "score": 0.97}]
        assert retained(broker.port, subscribers, TOPICS.region("cam", "door"))[-1].json()["state"] == "closed"

        # Home Assistant restarts: it gets the sensors and the states again
        seen = watch.count()
        watch.publish("homeassistant/status", b"online")
        assert watch.wait_for(DOOR_CONFIG, after=seen) is not None
        again = watch.wait_for(TOPICS.region("cam", "door"), after=seen)
        assert again is not None and again.json()["state"] == "closed"

        # the broker goes away and comes back: everything is published again
        broker.kill()
        board.handle(changed(DOOR, "open", "closed", 0.91))  # while away: kept until the broker is back
        broker.restart()
        back = subscribers(broker.port)
        assert back.wait(lambda w: any(m.json()["state"] == "open" for m in w.on(TOPICS.region("cam", "door"))), 30)

        # a region deleted in the page: its sensor goes
        seen = back.count()
        board.set_regions("cam", (DOOR,))
        removed = back.wait_for(BINS_CONFIG, b"", after=seen)
        assert removed is not None
    finally:
        sink.close(2.0)
    time.sleep(0.1)
