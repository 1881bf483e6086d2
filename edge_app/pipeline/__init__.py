"""Wiring and lifecycle of `edge-app run`.

Real time (cameras, streams, paced files), see live.py:
    capture thread -> Latest slot -> inference thread (newest frame only) -> newest Result
                               \\-> display thread: every frame + newest Result -> sinks
Batch (`--no-realtime`, files), see batch.py: every frame is classified; decoding, inference
on one or more interpreter lanes, and in-order output overlap through small bounded queues.

One stop event ends everything; every thread waits with a timeout and beats a heartbeat,
so a stuck thread is visible to the systemd watchdog.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Callable, Sequence

from edge_app.errors import EdgeAppError
from edge_app.frames import Frame, Result
from edge_app.model.classifier import Classifier
from edge_app.pipeline.capture import Capture, CaptureOptions
from edge_app.pipeline.display import Annotator
from edge_app.pipeline.state import PipelineState
from edge_app.service.watchdog import Heartbeat
from edge_app.sinks.base import Sink
from edge_app.smoothing import ScoreSmoother
from edge_app.sources.base import Source

log = logging.getLogger("edge_app.pipeline")
WAIT_S = 0.5  # the longest any thread waits before checking stop and beating its heartbeat
END = object()  # end of stream, passed down the batch queues


@dataclass(frozen=True)
class PipelineOptions:
    capture: CaptureOptions = field(default_factory=CaptureOptions)
    overlay: bool = True
    smooth: int = 1
    duration: float | None = None
    stall_s: float = 1.0  # no frame for this long: sinks get a "no signal" card instead
    error_window_s: float = 10.0  # inference failing this long without a success is fatal
    queue_size: int = 4  # batch mode: frames in flight between two stages, per lane


class Pipeline:
    def __init__(
        self,
        source: Source,
        classifier: Classifier,
        sinks: Sequence[Sink],
        options: PipelineOptions,
        stop: threading.Event | None = None,
        lanes: Sequence[Classifier] = (),
    ) -> None:
        """`lanes`: extra interpreters of the same model for batch mode (edge_app.model.lanes);
        `classifier` alone serves real time."""
        self.source = source
        self.classifier = classifier
        self.lanes = list(lanes) or [classifier]
        self.sinks = list(sinks)
        self.frame_sinks = [s for s in self.sinks if s.wants_frames]
        self.options = options
        self.stop = stop or threading.Event()
        self.heartbeats = {name: Heartbeat(name) for name in ("capture", "inference", "display")}
        self.capture = Capture(source, options.capture, self.stop, self.heartbeats["capture"].beat)
        info = classifier.info
        self.state = PipelineState(self.capture.health, {"name": info.name, "delegate": info.delegate, "runtime": info.runtime})
        self.annotator = Annotator(self.state, options.overlay)
        self.on_first_result: Callable[[], None] | None = None
        self.fatal: str | None = None
        self.user_error: EdgeAppError | None = None
        self._smoother = ScoreSmoother(options.smooth)
        self._errors_lock = threading.Lock()
        self._errors_in_row = 0
        self._last_success = time.monotonic()
        self._on_shutdown: list[Callable[[], None]] = []

    @property
    def batch(self) -> bool:
        return not self.options.capture.realtime and not self.source.live

    # -- lifecycle -------------------------------------------------------------------------

    def run(self) -> int:
        """Run until the source ends, the duration passes, or stop is set. 0 = fine, 1 = fatal."""
        from edge_app.pipeline import batch, live

        started: list[Sink] = []
        threads: list[threading.Thread] = []
        try:
            for sink in self.sinks:
                sink.start(self.stop, lossless=self.batch)
                started.append(sink)
            for sink in started:
                if getattr(sink, "url", ""):
                    log.info("live view: %s", sink.url)
            threads = batch.threads(self) if self.batch else live.threads(self)
            for thread in threads:
                thread.start()
            self.stop.wait(self.options.duration)
        finally:
            self.stop.set()
            self._shutdown(threads, started)
        if self.user_error:
            raise self.user_error
        if self.fatal:
            log.error("stopped: %s", self.fatal)
            return 1
        return 0

    def when_stopping(self, action: Callable[[], None]) -> None:
        """Run `action` as soon as the run stops, before threads are joined (e.g. close a slot to
        wake its readers, or tell systemd)."""
        self._on_shutdown.append(action)

    def _shutdown(self, threads: list[threading.Thread], sinks: list[Sink], budget_s: float = 1.5) -> None:
        for action in self._on_shutdown:
            action()
        deadline = time.monotonic() + budget_s
        for thread in threads:
            thread.join(max(0.05, deadline - time.monotonic()))
            if thread.is_alive():
                log.warning("thread %s did not stop in time (stuck in a driver call?)", thread.name)
        for sink in sinks:
            try:
                sink.close(max(0.1, deadline - time.monotonic()))
            except Exception as exc:
                log.warning("closing %s failed: %s", type(sink).__name__, exc)
        self.state.stopped = True

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

    # -- steps shared by both wirings ------------------------------------------------------

    def infer(self, lane: Classifier, frame: Frame, tensor: object | None = None) -> Result | None:
        """Classify one frame; a failure is counted, and fatal only when it persists."""
        try:
            result = lane.classify_frame(frame, tensor)  # type: ignore[arg-type]
        except Exception as exc:
            self._inference_failed(exc)
            return None
        with self._errors_lock:
            if self._errors_in_row:
                log.info("inference recovered after %d errors", self._errors_in_row)
            self._errors_in_row = 0
            self._last_success = time.monotonic()
        return result

    def publish(self, result: Result) -> Result:
        """Smooth (in frame order), record, and hand the result to every sink."""
        if self.options.smooth > 1 and result.scores is not None:
            result = replace(result, top=self.classifier.rank(self._smoother.update(result.scores)))
        first = not self.state.first_result.is_set()
        self.state.publish(result)
        for sink in self.sinks:
            sink.result(result)
        if first and self.on_first_result:
            self.on_first_result()
        return result

    def _inference_failed(self, exc: Exception) -> None:
        self.state.counters.add("inference_errors")
        with self._errors_lock:
            self._errors_in_row += 1
            first, failing_for = self._errors_in_row == 1, time.monotonic() - self._last_success
            persistent = self._errors_in_row >= 3 and failing_for > self.options.error_window_s
        if first:
            log.warning("inference failed: %s (counting; fatal if it persists %.0f s)", exc, self.options.error_window_s)
        if persistent:
            self.fatal = f"inference kept failing for {self.options.error_window_s:.0f} s: {exc}"
            self.stop.set()

    def show(self, frame: Frame, result: Result | None) -> None:
        now = time.monotonic()
        if self.frame_sinks:
            image = self.annotator.render(frame, result, now)
            for sink in self.frame_sinks:
                sink.frame(image, frame, result)
        self.state.shown(result, now)

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
