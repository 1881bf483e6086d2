"""Wiring and lifecycle of `edge-app run`.

Real time (cameras, streams, paced files):
    capture thread -> Latest slot -> inference thread (newest frame only) -> newest Result
                               \\-> display thread: every frame + newest Result -> sinks
Batch (`--no-realtime`, files): every frame is classified, stages overlap through small
bounded queues: decode+prepare -> invoke -> draw+sinks.

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
from edge_app.latest import Latest
from edge_app.model.classifier import Classifier
from edge_app.pipeline.capture import Capture, CaptureOptions
from edge_app.pipeline.display import Annotator
from edge_app.pipeline.state import PipelineState
from edge_app.service.watchdog import Heartbeat
from edge_app.sinks.base import Sink
from edge_app.smoothing import ScoreSmoother
from edge_app.sources.base import Source

log = logging.getLogger("edge_app.pipeline")
_END = object()
WAIT_S = 0.5  # the longest any thread waits before checking stop and beating its heartbeat


@dataclass(frozen=True)
class PipelineOptions:
    capture: CaptureOptions = field(default_factory=CaptureOptions)
    overlay: bool = True
    smooth: int = 1
    duration: float | None = None
    stall_s: float = 1.0  # no frame for this long: sinks get a "no signal" card instead
    error_window_s: float = 10.0  # inference failing this long without a success is fatal
    queue_size: int = 4  # batch mode: frames in flight between two stages


class Pipeline:
    def __init__(
        self,
        source: Source,
        classifier: Classifier,
        sinks: Sequence[Sink],
        options: PipelineOptions,
        stop: threading.Event | None = None,
    ) -> None:
        self.source = source
        self.classifier = classifier
        self.sinks = list(sinks)
        self.options = options
        self.stop = stop or threading.Event()
        self.heartbeats = {name: Heartbeat(name) for name in ("capture", "inference", "display")}
        self.capture = Capture(source, options.capture, self.stop, self._heartbeat("capture").beat)
        info = classifier.info
        self.state = PipelineState(self.capture.health, {"name": info.name, "delegate": info.delegate, "runtime": info.runtime})
        self.annotator = Annotator(self.state, options.overlay)
        self.on_first_result: Callable[[], None] | None = None
        self.on_stopping: Callable[[], None] | None = None
        self.fatal: str | None = None
        self.user_error: EdgeAppError | None = None
        self._smoother = ScoreSmoother(options.smooth)
        self._frame_sinks = [s for s in self.sinks if s.wants_frames]
        self._errors_in_row = 0
        self._last_success = time.monotonic()
        self._slot: Latest[Frame] = Latest()

    @property
    def batch(self) -> bool:
        return not self.options.capture.realtime and not self.source.live

    def _heartbeat(self, name: str) -> Heartbeat:
        return self.heartbeats[name]

    # -- lifecycle -------------------------------------------------------------------------

    def run(self) -> int:
        """Run until the source ends, the duration passes, or stop is set. 0 = fine, 1 = fatal."""
        started: list[Sink] = []
        threads: list[threading.Thread] = []
        try:
            for sink in self.sinks:
                sink.start(self.stop, lossless=self.batch)
                started.append(sink)
            for sink in started:
                if getattr(sink, "url", ""):
                    log.info("live view: %s", sink.url)
            threads = self._batch_threads() if self.batch else self._live_threads()
            for thread in threads:
                thread.start()
            self.stop.wait(self.options.duration)
        finally:
            self.stop.set()
            if self.on_stopping:
                self.on_stopping()
            self._shutdown(threads, started)
        if self.user_error:
            raise self.user_error
        if self.fatal:
            log.error("stopped: %s", self.fatal)
            return 1
        return 0

    def _shutdown(self, threads: list[threading.Thread], sinks: list[Sink], budget_s: float = 1.5) -> None:
        self._slot.close()
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

    def _thread(self, name: str, target: Callable[[], None]) -> threading.Thread:
        def body() -> None:
            try:
                target()
            except EdgeAppError as exc:  # a user's mistake found late (e.g. a file that vanished): one line
                self.user_error = self.user_error or exc
                self.stop.set()
            except Exception as exc:  # a bug inside a stage: stop everything
                log.exception("%s thread failed", name)
                self.fatal = self.fatal or f"{name}: {exc}"
                self.stop.set()

        return threading.Thread(target=body, name=f"edge-app-{name}", daemon=True)

    # -- shared steps ----------------------------------------------------------------------

    def _classify(self, frame: Frame, tensor: object | None = None) -> Result | None:
        try:
            result = self.classifier.classify_frame(frame, tensor)  # type: ignore[arg-type]
        except Exception as exc:
            self._inference_failed(exc)
            return None
        if self._errors_in_row:
            log.info("inference recovered after %d errors", self._errors_in_row)
        self._errors_in_row = 0
        self._last_success = time.monotonic()
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
        self._errors_in_row += 1
        if self._errors_in_row == 1:
            log.warning("inference failed: %s (counting; fatal if it persists %.0f s)", exc, self.options.error_window_s)
        if self._errors_in_row >= 3 and time.monotonic() - self._last_success > self.options.error_window_s:
            self.fatal = f"inference kept failing for {self.options.error_window_s:.0f} s: {exc}"
            self.stop.set()

    def _show(self, frame: Frame, result: Result | None) -> None:
        now = time.monotonic()
        if self._frame_sinks:
            image = self.annotator.render(frame, result, now)
            for sink in self._frame_sinks:
                sink.frame(image, frame, result)
        self.state.shown(result, now)

    # -- real time -------------------------------------------------------------------------

    def _live_threads(self) -> list[threading.Thread]:
        return [
            self._thread("capture", self._capture_live),
            self._thread("inference", self._infer_live),
            self._thread("display", self._display_live),
        ]

    def _capture_live(self) -> None:
        try:
            for frame in self.capture.frames():
                self.state.counters.add("captured")
                self._slot.put(frame)
        finally:
            self._slot.close()

    def _take(self, heartbeat: Heartbeat, last: int, timeout: float, dropped: str) -> tuple[int, Frame | None]:
        item = self._slot.get(last, timeout)
        heartbeat.beat()
        if item is None:
            return last, None
        version, frame = item
        if last and version - last > 1:
            self.state.counters.add(dropped, version - last - 1)
        return version, frame

    def _infer_live(self) -> None:
        heartbeat, last = self._heartbeat("inference"), 0
        while not self.stop.is_set():
            last, frame = self._take(heartbeat, last, WAIT_S, "dropped_inference")
            if frame is not None:
                self._classify(frame)
            elif self._slot.closed:
                return

    def _display_live(self) -> None:
        heartbeat, last = self._heartbeat("display"), 0
        try:
            while not self.stop.is_set():
                last, frame = self._take(heartbeat, last, self.options.stall_s, "dropped_display")
                if frame is not None:
                    self._show(frame, self.state.result)
                elif self._slot.closed:
                    return
                elif self._frame_sinks:  # no frame for stall_s: tell viewers the app is alive
                    card = self.annotator.no_signal()
                    for sink in self._frame_sinks:
                        sink.frame(card, Frame(card, -1), None)
        finally:
            self.stop.set()  # the display is the last stage: when it ends, the run ends

    # -- batch -----------------------------------------------------------------------------

    def _batch_threads(self) -> list[threading.Thread]:
        self._prepared: queue.Queue = queue.Queue(self.options.queue_size)
        self._classified: queue.Queue = queue.Queue(self.options.queue_size)
        return [
            self._thread("decode", self._decode_batch),
            self._thread("inference", self._infer_batch),
            self._thread("output", self._output_batch),
        ]

    def _put(self, q: queue.Queue, item: object, heartbeat: Heartbeat) -> None:
        """Blocking put (batch mode loses nothing), still giving way to stop."""
        while not self.stop.is_set():
            try:
                q.put(item, timeout=WAIT_S)
                return
            except queue.Full:
                heartbeat.beat()

    def _get(self, q: queue.Queue, heartbeat: Heartbeat) -> object:
        while not self.stop.is_set():
            try:
                return q.get(timeout=WAIT_S)
            except queue.Empty:
                heartbeat.beat()
        return _END

    def _decode_batch(self) -> None:
        heartbeat = self._heartbeat("capture")
        try:
            for frame in self.capture.frames():
                self.state.counters.add("captured")
                self._put(self._prepared, (frame, self.classifier.prepare(frame.image, frame.order)), heartbeat)
        finally:
            self._put(self._prepared, _END, heartbeat)

    def _infer_batch(self) -> None:
        heartbeat = self._heartbeat("inference")
        try:
            while (item := self._get(self._prepared, heartbeat)) is not _END:
                heartbeat.beat()
                frame, tensor = item  # type: ignore[misc]
                result = self._classify(frame, tensor)
                if self._frame_sinks:
                    self._put(self._classified, (frame, result), heartbeat)
        finally:
            self._put(self._classified, _END, heartbeat)

    def _output_batch(self) -> None:
        heartbeat = self._heartbeat("display")
        last: Result | None = None
        try:
            while (item := self._get(self._classified, heartbeat)) is not _END:
                heartbeat.beat()
                frame, result = item  # type: ignore[misc]
                last = result or last
                self._show(frame, last)
        finally:
            self.stop.set()
