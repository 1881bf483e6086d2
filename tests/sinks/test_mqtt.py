"""The MQTT output in-process, against Debian's mosquitto and a real paho subscriber: what it
publishes and retains, Home Assistant's birth message, the heartbeat and snapshots, a broker
that is absent and then appears, TLS with a CA made here, and its one-line errors."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from edge_app.fleet.topics import Topics
from edge_app.fleet.url import parse_mqtt_url
from edge_app.frames import Frame, Label, Result
from edge_app.sinks.mqtt import MqttOptions, MqttSink
from tests.helpers.fleet import Broker, broker, make_ca, subscribers  # noqa: F401  (fixtures)
from tests.helpers.pipeline_fakes import fake_state
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.slow  # a real broker each
DEVICE = "sinktest"
TOPICS = Topics.of(DEVICE)


def result(seq: int, index: int | None, label: str = "") -> Result:
    top = (Label(index, label or f"class {index}", 0.8),) if index is not None else ()
    return Result(seq, time.time(), time.monotonic(), top, 2.5)


@pytest.fixture
def sinks():
    made: list[MqttSink] = []

    def make(url: str, **options: Any) -> MqttSink:  # MqttOptions fields, by name
        sink = MqttSink(
            replace(MqttOptions(parse_mqtt_url(url), TOPICS), **options),
            fake_state(),
        )
        sink.start(threading.Event())
        made.append(sink)
        return sink

    yield make
    for sink in made:
        sink.close(2.0)


def retained(port: int, subscribers, topic: str) -> list:
    """What a newcomer to the broker gets for `topic`: only retained messages."""
    late = subscribers(port)
    late.wait_for(topic, timeout=20)
    return [m for m in late.on(topic) if m.retain]


def test_discovery_availability_and_state_on_change_are_published_and_retained(
    broker: Broker, subscribers, sinks
) -> None:
    watch = subscribers(broker.port)
    sink = sinks(broker.url)
    assert watch.wait_for(TOPICS.availability, b"online") is not None
    for seq, index in enumerate([3, 3, 3, 7, 7, None, 3, 3, 9]):
        sink.result(result(seq, index))
    # States arrive in order, so once the last change (9) is in, every earlier one that was news is too.
    assert watch.wait(lambda w: any(m.json()["index"] == 9 for m in w.on(TOPICS.state)))
    states = [m.json() for m in watch.on(TOPICS.state)]
    assert [(s["index"], s["frame"]) for s in states] == [(3, 0), (7, 3), (None, 5), (3, 6), (9, 8)]
    assert states[0]["label"] == "class 3" and states[2]["label"] is None

    config = retained(broker.port, subscribers, f"homeassistant/sensor/{DEVICE}/label/config")
    assert config and config[-1].json()["unique_id"] == f"edge_app_{DEVICE}_label"
    assert retained(broker.port, subscribers, TOPICS.availability)[-1].text == "online"
    assert retained(broker.port, subscribers, TOPICS.state)[-1].json()["frame"] == 8
    assert wait_until(lambda: sink.stats()["sent"] >= 9) and sink.stats()["dropped"] == 0


def test_home_assistant_coming_online_gets_discovery_again(broker: Broker, subscribers, sinks) -> None:
    watch = subscribers(broker.port)
    sinks(broker.url)
    label_config = f"homeassistant/sensor/{DEVICE}/label/config"
    assert watch.wait_for(label_config) is not None
    seen = watch.count()
    watch.publish("homeassistant/status", b"online")
    assert watch.wait_for(label_config, after=seen) is not None
    assert watch.wait_for(TOPICS.availability, b"online", after=seen) is not None


def test_a_flood_of_birth_messages_is_one_log_line_and_still_announces(
    broker: Broker, subscribers, sinks, caplog: pytest.LogCaptureFixture
) -> None:
    watch = subscribers(broker.port)
    sink = sinks(broker.url)
    label_config = f"homeassistant/sensor/{DEVICE}/label/config"
    assert watch.wait_for(label_config) is not None
    seen = watch.count()
    with caplog.at_level(logging.INFO, logger="edge_app.mqtt"):
        for _ in range(300):
            watch.publish("homeassistant/status", b"online")
        wait_until(lambda: sink._births_unsaid == 299, message=lambda: f"{sink._births_unsaid} births unsaid")
        assert watch.wait_for(label_config, after=seen) is not None
    births = [r.getMessage() for r in caplog.records if "Home Assistant" in r.getMessage()]
    assert births == ["MQTT: Home Assistant came online; announcing again"]


class _Unreadable(bytes):
    """A payload that must only be measured: copying or decoding it fails the test."""

    def strip(self, *args: object) -> bytes:
        raise AssertionError("a huge payload was copied")

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        raise AssertionError("a huge payload was decoded")


def test_a_huge_payload_on_the_status_topic_is_ignored_unread(caplog: pytest.LogCaptureFixture) -> None:
    sink = MqttSink(MqttOptions(parse_mqtt_url("mqtt://127.0.0.1:9"), TOPICS), fake_state())
    huge = SimpleNamespace(topic="homeassistant/status", payload=_Unreadable(b"online" + b" " * 20_000_000))
    with caplog.at_level(logging.DEBUG, logger="edge_app.mqtt"):
        sink._on_message(None, None, huge)
    assert not sink._announce and not caplog.records
    sink._on_message(None, None, SimpleNamespace(topic="homeassistant/status", payload=b" online\n"))
    assert sink._announce


def test_discovery_can_be_off(broker: Broker, subscribers, sinks) -> None:
    watch = subscribers(broker.port)
    sink = sinks(broker.url, discovery=False)
    assert watch.wait_for(TOPICS.availability, b"online") is not None
    sink.result(result(0, 1))
    assert watch.wait_for(TOPICS.state) is not None  # discovery, had it been on, comes before the state
    assert not [m for m in watch.messages if m.topic.startswith("homeassistant/")]


def test_the_state_is_repeated_every_interval_without_news(broker: Broker, subscribers, sinks) -> None:
    watch = subscribers(broker.port)
    sink = sinks(broker.url, interval=1.0)
    sink.result(result(0, 5))
    assert watch.wait(lambda w: len(w.on(TOPICS.state)) >= 3, timeout=20)
    assert {m.json()["index"] for m in watch.on(TOPICS.state)} == {5}


def test_a_label_change_sends_a_snapshot_of_the_frame_showing_it(broker: Broker, subscribers, sinks) -> None:
    watch = subscribers(broker.port)
    sink = sinks(broker.url, snapshot=True)
    assert sink.wants_frames
    image = np.full((48, 64, 3), 200, np.uint8)
    first = result(10, 4)
    sink.frame(image, Frame(image, 9), None)  # before the change: not wanted
    sink.result(first)
    sink.frame(image, Frame(image, 10), first)
    snapshot = watch.wait_for(TOPICS.snapshot)
    assert snapshot is not None and snapshot.payload[:2] == b"\xff\xd8"
    assert len(watch.on(TOPICS.snapshot)) == 1
    camera = watch.wait_for(f"homeassistant/camera/{DEVICE}/snapshot/config")
    assert camera is not None and camera.json()["topic"] == TOPICS.snapshot


def test_without_a_broker_nothing_blocks_the_outbox_drops_the_oldest_and_it_catches_up_later(
    tmp_path: Path, subscribers, sinks, caplog: pytest.LogCaptureFixture
) -> None:
    later = Broker(tmp_path)  # its port is free: nothing listens yet
    with caplog.at_level(logging.INFO, logger="edge_app.mqtt"):
        sink = sinks(later.url)
        feeder = threading.Thread(
            target=lambda: [sink.result(result(seq, seq % 2)) for seq in range(300)]
        )  # each one a change
        feeder.start()
        feeder.join(30)  # a generous deadline: a call that waited for the broker would take 300 connect timeouts
        assert not feeder.is_alive()
        assert wait_until(lambda: "MQTT: cannot connect" in caplog.text, timeout=20)
        assert sink.stats()["dropped"] == 200 and not sink.stats()["connected"]
        assert wait_until(lambda: sink.stats()["connect_failures"] >= 3, timeout=30)  # a few attempts later:
        assert caplog.text.count("MQTT: cannot connect") == 1

        later.start()
        try:
            watch = subscribers(later.port)
            assert watch.wait_for(TOPICS.availability, b"online", timeout=30) is not None
            assert watch.wait(lambda w: any(m.json()["frame"] == 299 for m in w.on(TOPICS.state)), timeout=20)
            frames = [m.json()["frame"] for m in watch.on(TOPICS.state)]
            assert frames == sorted(frames) and frames[0] >= 200  # the newest 100, in order
            assert "connected to mqtt://127.0.0.1" in caplog.text
        finally:
            sink.close(2.0)
            later.kill()


def test_a_clean_close_publishes_offline(broker: Broker, subscribers, sinks) -> None:
    watch = subscribers(broker.port)
    sink = sinks(broker.url)
    assert watch.wait_for(TOPICS.availability, b"online") is not None
    sink.close(2.0)
    assert watch.wait_for(TOPICS.availability, b"offline") is not None
    assert retained(broker.port, subscribers, TOPICS.availability)[-1].text == "offline"


def test_mqtts_with_a_ca_made_here(tmp_path: Path, subscribers, sinks, caplog: pytest.LogCaptureFixture) -> None:
    certificates = make_ca(tmp_path / "ca")
    secure = Broker(tmp_path, tls=certificates)
    secure.start()
    try:
        watch = subscribers(secure.port)  # the plain listener of the same broker
        sinks(f"mqtts://127.0.0.1:{secure.tls_port}", ca_file=str(certificates.ca))
        assert watch.wait_for(TOPICS.availability, b"online") is not None
        with caplog.at_level(logging.WARNING, logger="edge_app.mqtt"):
            untrusted = sinks(f"mqtts://127.0.0.1:{secure.tls_port}")  # the system's CAs do not know ours
            assert wait_until(lambda: "MQTT: cannot connect" in caplog.text, timeout=20)
            assert not untrusted.stats()["connected"]
    finally:
        secure.kill()
