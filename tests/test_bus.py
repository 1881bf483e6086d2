"""The bus: typed delivery, drop-oldest when a subscriber is slow, lossless waits, close drains."""

from __future__ import annotations

import threading

import numpy as np

from edge_app.bus import Bus, Classified, StateChanged
from edge_app.frames import Frame, Result
from edge_app.regions.spec import FULL


def _classified(seq: int) -> Classified:
    frame = Frame(np.zeros((2, 2, 3), np.uint8), seq)
    return Classified("cam", "frame", frame, Result(seq, frame.ts, frame.mono, (), 1.0))


def test_each_subscriber_gets_only_its_kinds_in_order() -> None:
    bus = Bus()
    got: list[int] = []
    changes: list[str] = []
    bus.subscribe("results", lambda e: got.append(e.result.seq), (Classified,))
    bus.subscribe("states", lambda e: changes.append(e.state), (StateChanged,))
    bus.start()
    for seq in range(5):
        bus.publish(_classified(seq))
    frame = Frame(np.zeros((2, 2, 3), np.uint8), 9)
    bus.publish(StateChanged("cam", "door", "open", None, 0.9, frame, FULL, 0.0))
    bus.close()
    assert got == [0, 1, 2, 3, 4]
    assert changes == ["open"]


def test_a_stuck_subscriber_drops_its_oldest_and_never_blocks_the_publisher() -> None:
    bus = Bus()
    release = threading.Event()
    got: list[int] = []

    def slow(event: Classified) -> None:
        release.wait(10)
        got.append(event.result.seq)

    subscription = bus.subscribe("slow", slow, (Classified,), maxsize=3)
    bus.start()
    for seq in range(20):  # returns at once although the handler is stuck on the first
        bus.publish(_classified(seq))
    assert subscription.dropped >= 16
    release.set()
    bus.close()
    assert got[-3:] == [17, 18, 19]  # the newest survive


def test_lossless_waits_for_room_and_loses_nothing() -> None:
    bus = Bus(lossless=True)
    got: list[int] = []
    bus.subscribe("all", lambda e: got.append(e.result.seq), (Classified,), maxsize=2)
    bus.start()
    for seq in range(50):
        bus.publish(_classified(seq))
    bus.close()
    assert got == list(range(50))


def test_a_failing_handler_is_counted_and_the_next_event_still_arrives() -> None:
    bus = Bus()
    got: list[int] = []

    def flaky(event: Classified) -> None:
        if event.result.seq == 0:
            raise ValueError("boom")
        got.append(event.result.seq)

    subscription = bus.subscribe("flaky", flaky, (Classified,))
    bus.start()
    bus.publish(_classified(0))
    bus.publish(_classified(1))
    bus.close()
    assert got == [1] and subscription.failed == 1
    assert bus.stats()["flaky"]["delivered"] == 1
