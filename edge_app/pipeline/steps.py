"""What every stage of a run does, behind the narrow interface the wirings (live.py, batch.py) use.

A wiring decides which threads exist and how frames flow between them; these steps decide what
happens to a frame: classify it, publish the result, draw and show it. A wiring sees nothing
else of the pipeline.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from edge_app.errors import EdgeAppError
from edge_app.frames import Frame, Result
from edge_app.heartbeat import Heartbeat
from edge_app.model.classifier import Classifier
from edge_app.pipeline.capture import Capture
from edge_app.pipeline.display import Annotator
from edge_app.pipeline.model_slot import ModelSlot
from edge_app.pipeline.options import PipelineOptions
from edge_app.smoothing import ScoreSmoother

if TYPE_CHECKING:
    from edge_app.pipeline.parts import Hooks, Parts

log = logging.getLogger("edge_app.pipeline")
WAIT_S = 0.5  # the longest any thread waits before checking stop and beating its heartbeat
END = object()  # end of stream, passed down the batch queues
STAGES = ("capture", "inference", "display")  # one heartbeat each (batch: decode, lanes, output)


class Steps:
    def __init__(
        self,
        capture: Capture,
        heartbeats: dict[str, Heartbeat],
        parts: Parts,
        options: PipelineOptions,
        hooks: Hooks,
    ) -> None:
        self.lanes = list(parts.lanes)
        self.model = parts.model or ModelSlot(self.lanes[0])  # what live inference runs, swappable
        self.options = options
        self.stop = capture.stop
        self.heartbeats = heartbeats
        self.fatal: str | None = None
        self.user_error: EdgeAppError | None = None
        self._capture = capture
        self._sinks = list(parts.sinks)
        self._frame_sinks = [s for s in self._sinks if s.wants_frames]
        self._state = parts.state
        self._annotator = Annotator(parts.state, options.overlay, hooks.marks)
        self._hooks = hooks
        self._swapped = threading.Event()  # set by a model swap, for the inference thread to see
        self.model.on_swap(lambda _: self._swapped.set())
        self._on_stopping: list[Callable[[], None]] = []
        self._smoother = ScoreSmoother(options.smooth)
        self._errors_lock = threading.Lock()
        self._errors_in_row = 0
        self._last_success = time.monotonic()

    # -- threads and their lifecycle -------------------------------------------------------

    def thread(self, name: str, target: Callable[[], None]) -> threading.Thread:
        """A daemon thread whose failure stops the run: a user error as one line, a bug logged."""

        def body() -> None:
            try:
                target()
            except EdgeAppError as exc:  # a user's mistake found late (e.g. a file that vanished)
                self.user_error = self.user_error or exc
                self.stop.set()
            except Exception as exc:  # a bug inside a stage: stop everything
                log.exception("%s thread failed", name)
                self.fatal = self.fatal or f"{name}: {exc}"
                self.stop.set()

        return threading.Thread(target=body, name=f"edge-app-{name}", daemon=True)

    def when_stopping(self, action: Callable[[], None]) -> None:
        """Run `action` as soon as the run stops, before threads are joined (e.g. close a slot to
        wake its readers, or tell systemd)."""
        self._on_stopping.append(action)

    def stopping(self) -> None:
        for action in self._on_stopping:
            action()

    def heartbeat(self, stage: str) -> Heartbeat:
        return self.heartbeats[stage]

    # -- frames in -------------------------------------------------------------------------

    def frames(self) -> Iterator[Frame]:
        on_frame = self._hooks.on_frame
        for frame in self._capture.frames():
            self._state.counters.add("captured")
            if on_frame is not None:
                on_frame(frame)
            yield frame

    def count(self, name: str, amount: int = 1) -> None:
        self._state.counters.add(name, amount)

    # -- classification --------------------------------------------------------------------

    def prepare(self, frame: Frame) -> np.ndarray:
        return self.model.current.prepare(frame.image, frame.order)

    def infer(self, lane: Classifier, frame: Frame, tensor: np.ndarray | None = None) -> Result | None:
        """Classify one frame; a failure is counted, and fatal only when it persists."""
        try:
            result = lane.classify_frame(frame, tensor)
        except Exception as exc:
            self._inference_failed(exc)
            return None
        with self._errors_lock:
            if self._errors_in_row:
                log.info("inference recovered after %d errors", self._errors_in_row)
            self._errors_in_row = 0
            self._last_success = time.monotonic()
        return result

    def _inference_failed(self, exc: Exception) -> None:
        self._state.counters.add("inference_errors")
        with self._errors_lock:
            self._errors_in_row += 1
            first, failing_for = self._errors_in_row == 1, time.monotonic() - self._last_success
            persistent = self._errors_in_row >= 3 and failing_for > self.options.error_window_s
        if first:
            log.warning(
                "inference failed: %s (counting; fatal if it persists %.0f s)", exc, self.options.error_window_s
            )
        if persistent:
            self.fatal = f"inference kept failing for {self.options.error_window_s:.0f} s: {exc}"
            self.stop.set()

    def publish(self, result: Result, ranker: Classifier | None = None) -> Result:
        """Smooth (in frame order), record, and hand the result to every sink. `ranker`: the
        classifier that made it (live: the model may have been swapped; batch: any lane)."""
        ranker = ranker or self.model.current
        if self.options.smooth > 1 and result.scores is not None:
            if self._swapped.is_set():  # another model: its scores mean other classes
                self._swapped.clear()
                self._smoother.reset()
            result = replace(result, top=ranker.rank(self._smoother.update(result.scores)))
        first = not self._state.first_result.is_set()
        self._state.publish(result)
        for sink in self._sinks:
            sink.result(result)
        self.model.published(ranker)
        if first and self._hooks.on_first_result:
            self._hooks.on_first_result(result)
        return result

    def classified(self, frame: Frame, result: Result) -> None:
        """Live: `frame` was classified as `result` (teaching keeps the newest pair)."""
        if self._hooks.on_classified:
            self._hooks.on_classified(frame, result)

    def newest_result(self) -> Result | None:
        return self._state.result

    # -- pictures out ----------------------------------------------------------------------

    def show(self, frame: Frame, result: Result | None) -> None:
        now = time.monotonic()
        if self._frame_sinks:
            image = self._annotator.render(frame, result, now)
            for sink in self._frame_sinks:
                sink.frame(image, frame, result)
        self._state.shown(frame, result, now)

    def show_no_signal(self) -> None:
        """No frame for a while: tell viewers the app is alive and what it waits for."""
        if self._frame_sinks:
            card = self._annotator.no_signal()
            for sink in self._frame_sinks:
                sink.frame(card, Frame(card, -1), None)

    # -- bounded hand-over between batch stages --------------------------------------------

    def put(self, q: queue.Queue, item: object, heartbeat: Heartbeat) -> None:
        """Blocking put (batch mode loses nothing), still giving way to stop."""
        while not self.stop.is_set():
            try:
                q.put(item, timeout=WAIT_S)
                return
            except queue.Full:
                heartbeat.beat()

    def get(self, q: queue.Queue, heartbeat: Heartbeat) -> object:
        """The next item, or END once stop is set."""
        while not self.stop.is_set():
            try:
                return q.get(timeout=WAIT_S)
            except queue.Empty:
                heartbeat.beat()
        return END
