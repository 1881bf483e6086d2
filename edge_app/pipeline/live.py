"""Real-time wiring: the newest frame goes to inference, every frame goes to the display.

capture -> Latest slot; the inference thread takes the newest frame it has not seen (a slow
model skips stale frames instead of queueing them, and a picture held for the display, such
as a slideshow photo, is classified once); the display thread draws the newest result on every
frame, and shows "no signal" when frames stop coming.
"""

from __future__ import annotations

import threading

from edge_app.frames import Frame
from edge_app.heartbeat import Heartbeat
from edge_app.latest import Latest
from edge_app.pipeline.steps import Steps
from edge_app.pipeline.supervisor import WAIT_S


def threads(steps: Steps) -> list[threading.Thread]:
    slot: Latest[Frame] = Latest()
    supervisor = steps.supervisor
    supervisor.when_stopping(slot.close)
    return [
        supervisor.thread("capture", lambda: _capture(steps, slot)),
        supervisor.thread("inference", lambda: _infer(steps, slot)),
        supervisor.thread("display", lambda: _display(steps, slot)),
    ]


def _capture(steps: Steps, slot: Latest[Frame]) -> None:
    try:
        for frame in steps.frames():
            slot.put(frame)
    finally:
        slot.close()


def _take(
    steps: Steps, slot: Latest[Frame], heartbeat: Heartbeat, last: int, timeout: float, dropped: str
) -> tuple[int, Frame | None]:
    """The newest frame after version `last` (counting the ones skipped), or None on timeout."""
    item = slot.get(last, timeout)
    heartbeat.beat()
    if item is None:
        return last, None
    version, frame = item
    if version - last > 1:  # versions start at 1: frames before a first take count as dropped too
        steps.counters.add(dropped, version - last - 1)
    return version, frame


def _infer(steps: Steps, slot: Latest[Frame]) -> None:
    stop, heartbeat, last = steps.supervisor.stop, steps.supervisor.heartbeat("inference"), 0
    classified: int | None = None  # the still picture classified last: its result stands while it is held
    model = steps.model.current
    while not stop.is_set():
        last, frame = _take(steps, slot, heartbeat, last, WAIT_S, "dropped_inference")
        if frame is not None:
            if steps.model.current is not model:  # a new model (taught): classify the held picture again
                model, classified = steps.model.current, None
            if frame.still is not None and frame.still == classified:
                continue
            result = steps.infer(model, frame)
            if result is not None:
                classified = frame.still
                steps.publisher.publish(result, model)
                steps.publisher.classified(frame, result)
        elif slot.closed:
            return


def _display(steps: Steps, slot: Latest[Frame]) -> None:
    stop, heartbeat, last = steps.supervisor.stop, steps.supervisor.heartbeat("display"), 0
    try:
        while not stop.is_set():
            last, frame = _take(steps, slot, heartbeat, last, steps.options.stall_s, "dropped_display")
            if frame is not None:
                steps.display.show(frame, steps.publisher.newest())
            elif slot.closed:
                return
            else:  # no frame for stall_s
                steps.display.no_signal()
    finally:
        stop.set()  # the display is the last stage: when it ends, the run ends
