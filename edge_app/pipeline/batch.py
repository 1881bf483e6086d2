"""Batch wiring (`--no-realtime`): every frame classified, as fast as the machine allows.

    decode + prepare -> queue -> N inference lanes -> queue -> output, in frame order

Lanes are single-thread interpreters side by side (edge_app.model.lanes): on a batch they
outrun one wide interpreter, and decoding fills the gaps. The output thread restores frame
order before smoothing, events and drawing, so results are exactly those of a serial loop.
"""

from __future__ import annotations

import queue
import threading
from typing import TYPE_CHECKING

from edge_app.frames import Frame, Result
from edge_app.model.classifier import Classifier

from edge_app.pipeline import END

if TYPE_CHECKING:
    from edge_app.pipeline import Pipeline


def threads(p: Pipeline) -> list[threading.Thread]:
    size = p.options.queue_size * len(p.lanes)
    prepared: queue.Queue = queue.Queue(size)
    classified: queue.Queue = queue.Queue(size)
    lanes = [p.thread(f"inference-{i}", lambda lane=lane: _infer(p, lane, prepared, classified)) for i, lane in enumerate(p.lanes)]
    return [p.thread("decode", lambda: _decode(p, prepared)), *lanes, p.thread("output", lambda: _output(p, classified))]


def _decode(p: Pipeline, prepared: queue.Queue) -> None:
    heartbeat = p.heartbeats["capture"]
    try:
        for frame in p.capture.frames():
            p.state.counters.add("captured")
            p.put(prepared, (frame, p.classifier.prepare(frame.image, frame.order)), heartbeat)
    finally:
        for _ in p.lanes:
            p.put(prepared, END, heartbeat)


def _infer(p: Pipeline, lane: Classifier, prepared: queue.Queue, classified: queue.Queue) -> None:
    heartbeat = p.heartbeats["inference"]
    try:
        while (item := p.get(prepared, heartbeat)) is not END:
            heartbeat.beat()
            frame, tensor = item  # type: ignore[misc]
            p.put(classified, (frame, p.infer(lane, frame, tensor)), heartbeat)
    finally:
        p.put(classified, END, heartbeat)


def _output(p: Pipeline, classified: queue.Queue) -> None:
    """Publish and show in frame order, whatever order the lanes finish in."""
    heartbeat = p.heartbeats["display"]
    waiting: dict[int, tuple[Frame, Result | None]] = {}
    expected, ended = 0, 0  # the capture stage numbers frames from 0
    last: Result | None = None
    try:
        while ended < len(p.lanes):
            item = p.get(classified, heartbeat)
            heartbeat.beat()
            if item is END:
                if p.stop.is_set():
                    return
                ended += 1
                continue
            frame, result = item  # type: ignore[misc]
            waiting[frame.seq] = (frame, result)
            while expected in waiting:
                frame, result = waiting.pop(expected)
                expected += 1
                if result is not None:
                    last = p.publish(result)
                p.show(frame, last)
    finally:
        p.stop.set()
