"""The lifecycle of one run: start the sinks and the wiring's threads, wait, stop, report.

Everything is handed in built (one way: source, model lanes, state, then the sinks that read
the state); the pipeline only runs it. Live or batch is decided once, by the caller, in
PipelineOptions.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from edge_app.heartbeat import Heartbeat
from edge_app.pipeline import batch, live
from edge_app.pipeline.capture import Capture
from edge_app.pipeline.options import PipelineOptions
from edge_app.pipeline.parts import Hooks, Parts
from edge_app.pipeline.steps import build_steps
from edge_app.pipeline.supervisor import STAGES
from edge_app.sink import Sink

log = logging.getLogger("edge_app.pipeline")


class Pipeline:
    def __init__(
        self,
        parts: Parts,
        options: PipelineOptions = PipelineOptions(),
        stop: threading.Event | None = None,
        hooks: Hooks = Hooks(),
    ) -> None:
        self.parts = parts
        self.options = options
        self.state = parts.state
        self.stop = stop or threading.Event()
        heartbeats = {name: Heartbeat(name) for name in STAGES}
        self.capture = Capture(parts.source, options.capture, self.stop, parts.state.health, heartbeats["capture"].beat)
        self.steps = build_steps(self.capture, heartbeats, parts, options, hooks)
        self.supervisor = self.steps.supervisor
        self.ended: str | None = None  # why the run ended by itself ("end of input", ...); None when stopped

    @property
    def heartbeats(self) -> dict[str, Heartbeat]:
        return self.supervisor.heartbeats

    @property
    def fatal(self) -> str | None:
        return self.supervisor.fatal

    def when_stopping(self, action: Callable[[], None]) -> None:
        self.supervisor.when_stopping(action)

    def run(self) -> int:
        """Run until the source ends, the duration passes, or stop is set. 0 = fine, 1 = fatal.
        A run that ends by itself logs one line of what it did."""
        started: list[Sink] = []
        threads: list[threading.Thread] = []
        began = time.monotonic()
        try:
            for sink in self.parts.sinks:
                sink.start(self.stop, lossless=self.options.batch)
                started.append(sink)
            threads = (batch if self.options.batch else live).threads(self.steps)
            for thread in threads:
                thread.start()
            timed_out = not self.stop.wait(self.options.duration)
            self.ended = "duration reached" if timed_out else self.capture.ended
        finally:
            self.stop.set()
            self._shutdown(threads, started)
        if self.supervisor.user_error:
            raise self.supervisor.user_error
        if self.supervisor.fatal:
            log.error("stopped: %s", self.supervisor.fatal)
            return 1
        if self.ended:
            log.info("%s: %s", self.ended, self.state.totals(time.monotonic() - began))
        return 0

    def _shutdown(self, threads: list[threading.Thread], sinks: list[Sink], budget_s: float = 1.5) -> None:
        self.supervisor.stopping()
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
