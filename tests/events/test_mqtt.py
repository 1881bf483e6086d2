"""Events through the run's MQTT output, against Debian's mosquitto: the whole frame's event and
image entities announced with the output's own discovery (again on Home Assistant's birth), and a
watched label starting fired as an event (not retained) with its snapshot (retained)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from edge_app.bus import Bus, Classified
from edge_app.events.output import EventsOutput
from edge_app.events.setup import setup
from edge_app.events.store import Query
from edge_app.fleet.topics import Topics
from edge_app.fleet.url import parse_mqtt_url
from edge_app.frames import Frame, Label, Result
from edge_app.regions.spec import WHOLE_FRAME
from edge_app.settings.sections.events import EventsConfig
from edge_app.sinks.mqtt import MqttOptions, MqttSink
from tests.helpers.fleet import Broker, broker, subscribers  # noqa: F401  (fixtures)
from tests.helpers.pipeline_fakes import fake_state

pytestmark = pytest.mark.slow  # a real broker
DEVICE = "eventstest"
TOPICS = Topics.of(DEVICE)


def test_watched_label_events_reach_home_assistant(tmp_path: Path, broker: Broker, subscribers) -> None:  # noqa: F811
    watch = subscribers(broker.port)
    bus = Bus()
    events = setup(EventsConfig(watch=("bird",)), tmp_path, bus, lambda camera, region: None)
    assert events is not None
    output = EventsOutput(events, bus, "default")
    mqtt = MqttSink(MqttOptions(parse_mqtt_url(broker.url), TOPICS), fake_state())
    output.announce_to([mqtt])
    stop = threading.Event()
    events.start()
    bus.start()
    mqtt.start(stop)
    try:
        config_topic = f"homeassistant/event/{DEVICE}/event_default_frame/config"
        announced = watch.wait_for(config_topic)
        assert announced is not None and announced.json()["event_types"] == ["bird"]
        assert watch.wait_for(f"homeassistant/image/{DEVICE}/snapshot_default_frame/config") is not None

        image = np.full((60, 80, 3), 90, np.uint8)
        for seq in range(4):  # three results in a row start it
            result = Result(seq, time.time(), time.monotonic(), (Label(1, "bird", 0.9),), 1.0)
            bus.publish(Classified("default", WHOLE_FRAME, Frame(image, seq), result))  # as the runtime does
        event_topic = f"{TOPICS.prefix}/events/default/frame"
        fired = watch.wait_for(event_topic)
        assert fired is not None and fired.json()["event_type"] == "bird" and fired.json()["kind"] == "start"
        assert fired.json()["event_id"] == events.keeper.store.page(Query()).events[0].id
        snapshot = watch.wait_for(f"{event_topic}/snapshot")
        assert snapshot is not None and snapshot.payload.startswith(b"\xff\xd8")

        late = subscribers(broker.port)  # what a newcomer gets: the retained messages only
        kept = late.wait_for(f"{event_topic}/snapshot")
        assert kept is not None and kept.retain and late.wait_for(config_topic) is not None
        assert late.on(event_topic) == []  # the event happened once: not retained

        seen = watch.count()
        watch.publish("homeassistant/status", b"online")
        assert watch.wait_for(config_topic, after=seen) is not None  # announced again with the rest
    finally:
        mqtt.close(2.0)
        bus.close(2.0)
        events.close(2.0)
