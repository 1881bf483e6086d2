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
from edge_app.model.classifier import Classifier
from edge_app.pipeline.steps import END, Steps


def threads(steps: Steps) -> list[threading.Thread]:
    size = steps.options.queue_size * len(steps.lanes)
    prepared: queue.Queue = queue.Queue(size)
    classified: queue.Queue = queue.Queue(size)
    lanes = [
        steps.thread(f"inference-{i}", partial(_infer, steps, lane, prepared, classified))
        for i, lane in enumerate(steps.lanes)
    ]
    return [
        steps.thread("decode", lambda: _decode(steps, prepared)),
        *lanes,
        steps.thread("output", lambda: _output(steps, classified)),
    ]


def _decode(steps: Steps, prepared: queue.Queue) -> None:
    heartbeat = steps.heartbeat("capture")
    try:
        for frame in steps.frames():
            steps.put(prepared, (frame, steps.prepare(frame)), heartbeat)
    finally:
        for _ in steps.lanes:
            steps.put(prepared, END, heartbeat)


def _infer(steps: Steps, lane: Classifier, prepared: queue.Queue, classified: queue.Queue) -> None:
    heartbeat = steps.heartbeat("inference")
    try:
        while (item := steps.get(prepared, heartbeat)) is not END:
            heartbeat.beat()
            frame, tensor = cast(tuple[Frame, np.ndarray], item)
            steps.put(classified, (frame, steps.infer(lane, frame, tensor)), heartbeat)
    finally:
        steps.put(classified, END, heartbeat)


def _output(steps: Steps, classified: queue.Queue) -> None:
    """Publish and show in frame order, whatever order the lanes finish in."""
    heartbeat = steps.heartbeat("display")
    waiting: dict[int, tuple[Frame, Result | None]] = {}
    expected, ended = 0, 0  # the capture stage numbers frames from 0
    last: Result | None = None
    try:
        while ended < len(steps.lanes):
            item = steps.get(classified, heartbeat)
            heartbeat.beat()
            if item is END:
                if steps.stop.is_set():
                    return
                ended += 1
                continue
            frame, result = cast(tuple[Frame, Result | None], item)
            waiting[frame.seq] = (frame, result)
            while expected in waiting:
                frame, result = waiting.pop(expected)
                expected += 1
                if result is not None:
                    last = steps.publish(result)
                steps.show(frame, last)
    finally:
        steps.stop.set()
