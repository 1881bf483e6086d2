"""Real-time wiring: the newest frame goes to inference, every frame goes to the display.

capture -> Latest slot; the inference thread takes the newest frame it has not seen (a slow
model skips stale frames instead of queueing them); the display thread draws the newest
result on every frame, and shows "no signal" when frames stop coming.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from edge_app.frames import Frame
from edge_app.latest import Latest
from edge_app.pipeline import WAIT_S
from edge_app.service.watchdog import Heartbeat

if TYPE_CHECKING:
    from edge_app.pipeline import Pipeline


def threads(p: Pipeline) -> list[threading.Thread]:
    slot: Latest[Frame] = Latest()
    p.when_stopping(slot.close)
    return [
        p.thread("capture", lambda: _capture(p, slot)),
        p.thread("inference", lambda: _infer(p, slot)),
        p.thread("display", lambda: _display(p, slot)),
    ]


def _capture(p: Pipeline, slot: Latest[Frame]) -> None:
    try:
        for frame in p.capture.frames():
            p.state.counters.add("captured")
            slot.put(frame)
    finally:
        slot.close()


def _take(p: Pipeline, slot: Latest[Frame], heartbeat: Heartbeat, last: int, timeout: float, dropped: str) -> tuple[int, Frame | None]:
    """The newest frame after version `last` (counting the ones skipped), or None on timeout."""
    item = slot.get(last, timeout)
    heartbeat.beat()
    if item is None:
        return last, None
    version, frame = item
    if last and version - last > 1:
        p.state.counters.add(dropped, version - last - 1)
    return version, frame


def _infer(p: Pipeline, slot: Latest[Frame]) -> None:
    heartbeat, last = p.heartbeats["inference"], 0
    while not p.stop.is_set():
        last, frame = _take(p, slot, heartbeat, last, WAIT_S, "dropped_inference")
        if frame is not None:
            result = p.infer(p.classifier, frame)
            if result is not None:
                p.publish(result)
        elif slot.closed:
            return


def _display(p: Pipeline, slot: Latest[Frame]) -> None:
    heartbeat, last = p.heartbeats["display"], 0
    try:
        while not p.stop.is_set():
            last, frame = _take(p, slot, heartbeat, last, p.options.stall_s, "dropped_display")
            if frame is not None:
                p.show(frame, p.state.result)
            elif slot.closed:
                return
            elif p.frame_sinks:  # no frame for stall_s: tell viewers the app is alive
                card = p.annotator.no_signal()
                for sink in p.frame_sinks:
                    sink.frame(card, Frame(card, -1), None)
    finally:
        p.stop.set()  # the display is the last stage: when it ends, the run ends
