"""Batch wiring (`--no-realtime`): every frame classified, as fast as the machine allows.

    decode + prepare -> queue -> N inference lanes -> queue -> output, in frame order

Lanes are single-thread interpreters side by side (edge_app.model.lanes): on a batch they
outrun one wide interpreter, and decoding fills the gaps. The output thread restores frame
order before smoothing, events and drawing, so results are exactly those of a serial loop.
"""

from __future__ import annotations

import queue
import threading
from functools import partial
from typing import cast

import numpy as np

from edge_app.frames import Frame, Result
from edge_app.heartbeat import Heartbeat
from edge_app.model.classifier import Classifier
from edge_app.pipeline.steps import Steps
from edge_app.pipeline.supervisor import WAIT_S

END = object()  # end of stream, passed down the queues


def threads(steps: Steps) -> list[threading.Thread]:
    size = steps.options.queue_size * len(steps.lanes)
    prepared: queue.Queue = queue.Queue(size)
    classified: queue.Queue = queue.Queue(size)
    supervisor = steps.supervisor
    lanes = [
        supervisor.thread(f"inference-{i}", partial(_infer, steps, lane, prepared, classified))
        for i, lane in enumerate(steps.lanes)
    ]
    return [
        supervisor.thread("decode", lambda: _decode(steps, prepared)),
        *lanes,
        supervisor.thread("output", lambda: _output(steps, classified)),
    ]


def _put(steps: Steps, q: queue.Queue, item: object, heartbeat: Heartbeat) -> None:
    """Blocking put (batch mode loses nothing), still giving way to stop."""
    while not steps.supervisor.stop.is_set():
        try:
            q.put(item, timeout=WAIT_S)
            return
        except queue.Full:
            heartbeat.beat()


def _get(steps: Steps, q: queue.Queue, heartbeat: Heartbeat) -> object:
    """The next item, or END once stop is set."""
    while not steps.supervisor.stop.is_set():
        try:
            return q.get(timeout=WAIT_S)
        except queue.Empty:
            heartbeat.beat()
    return END


def _decode(steps: Steps, prepared: queue.Queue) -> None:
    heartbeat = steps.supervisor.heartbeat("capture")
    try:
        for frame in steps.frames():
            _put(steps, prepared, (frame, steps.model.current.prepare(frame.image, frame.order)), heartbeat)
    finally:
        for _ in steps.lanes:
            _put(steps, prepared, END, heartbeat)


def _infer(steps: Steps, lane: Classifier, prepared: queue.Queue, classified: queue.Queue) -> None:
    heartbeat = steps.supervisor.heartbeat("inference")
    try:
        while (item := _get(steps, prepared, heartbeat)) is not END:
            heartbeat.beat()
            frame, tensor = cast(tuple[Frame, np.ndarray], item)
            _put(steps, classified, (frame, steps.infer(lane, frame, tensor)), heartbeat)
    finally:
        _put(steps, classified, END, heartbeat)


def _output(steps: Steps, classified: queue.Queue) -> None:
    """Publish and show in frame order, whatever order the lanes finish in."""
    heartbeat = steps.supervisor.heartbeat("display")
    waiting: dict[int, tuple[Frame, Result | None]] = {}
    expected, ended = 0, 0  # the capture stage numbers frames from 0
    last: Result | None = None
    try:
        while ended < len(steps.lanes):
            item = _get(steps, classified, heartbeat)
            heartbeat.beat()
            if item is END:
                if steps.supervisor.stop.is_set():
                    return
                ended += 1
                continue
            frame, result = cast(tuple[Frame, Result | None], item)
            waiting[frame.seq] = (frame, result)
            while expected in waiting:
                frame, result = waiting.pop(expected)
                expected += 1
                if result is not None:
                    last = steps.publisher.publish(result)
                steps.display.show(frame, last)
    finally:
        steps.supervisor.stop.set()
