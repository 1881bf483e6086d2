"""`--events` with regions: every result line names its camera and region; each verified change
is a line of its own, in order with the results, through the bus."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np

from edge_app.bus import Bus, Classified, FrameShown, StateChanged
from edge_app.frames import Frame, Label, Result
from edge_app.regions.spec import Box
from edge_app.sinks.events import EventsSink

BOX = Box(0.1, 0.1, 0.5, 0.5)


def frame(seq: int) -> Frame:
    return Frame(np.zeros((2, 2, 3), np.uint8), seq, ts=1_700_000_000.0 + seq, mono=float(seq))


def result(seq: int, label: str) -> Result:
    return Result(seq, 1_700_000_000.0 + seq, float(seq), (Label(1, label, 0.9),), 4.0)


def test_result_and_state_lines(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    sink = EventsSink(str(path))
    sink.start(threading.Event())
    bus = Bus(lossless=True)
    bus.subscribe("events", sink.handle, (Classified, StateChanged))
    bus.start()
    bus.publish(Classified("front", "frame", frame(1), result(1, "cat")))
    for seq in (1, 2, 3):
        bus.publish(Classified("front", "door", frame(seq), result(seq, "open"), BOX, "closed", seq < 3))
    bus.publish(StateChanged("front", "door", "open", "closed", 0.93, frame(3), BOX, 1_700_000_003.25))
    bus.publish(FrameShown("front", np.zeros((2, 2, 3), np.uint8), frame(3), None))  # not an event line
    bus.close()
    sink.close()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(line.get("type"), line["region"]) for line in lines] == [(None, "frame")] + [(None, "door")] * 3 + [
        ("state", "door")
    ]
    assert lines[0] == {
        "camera": "front",
        "region": "frame",
        "frame": 1,
        "ts": 1_700_000_001.0,
        "inference_ms": 4.0,
        "top": [{"index": 1, "label": "cat", "score": 0.9}],
    }
    assert lines[-1] == {
        "type": "state",
        "camera": "front",
        "region": "door",
        "state": "open",
        "previous": "closed",
        "score": 0.93,
        "frame": 3,
        "ts": 1_700_000_003.25,
    }
    assert sink.written == 5
