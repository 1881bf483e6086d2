"""The one inference worker every camera and region shares.

Jobs are keyed by (camera, region). A new job replaces the one still waiting under its key (the
newest crop wins: a slow model skips stale crops instead of queueing them), and keys are served
in the order they first asked, so a busy region cannot starve another. Submitting never blocks,
so no camera's video waits for inference. In batch mode (`lossless`) nothing is replaced: a
submit waits while its key's previous crop is still waiting, so a run over a file gives the same
results every time, and `settle` lets a region's gate wait for its previous result, so what the
gate reads (a change pending confirmation) does not depend on how fast the worker is.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("edge_app.runtime")
JobKey = tuple[str, str]  # (camera, region)


@dataclass(frozen=True)
class Job:
    key: JobKey
    run: Callable[[], Any]  # the inference (runs on the worker's thread)
    done: Callable[[Any], None]  # its result, on the worker's thread: keep it quick (publish on the bus)


class InferenceWorker:
    def __init__(self, stop: threading.Event, lossless: bool = False) -> None:
        self.stop = stop
        self.lossless = lossless
        self._running: JobKey | None = None  # the key whose job runs now
        self._waiting: OrderedDict[JobKey, Job] = OrderedDict()
        self._ready = threading.Condition()
        self._closed = False
        self.ran = 0
        self.replaced = 0  # jobs a newer one of the same key replaced before they ran
        self.failed = 0
        self._thread: threading.Thread | None = None

    def submit(self, job: Job) -> None:
        with self._ready:
            if self.lossless:
                self._ready.wait_for(lambda: job.key not in self._waiting or self._closed or self.stop.is_set())
            if job.key in self._waiting:
                self.replaced += 1
            self._waiting[job.key] = job  # a waiting key keeps its place in line, a new one joins the end
            self._ready.notify()

    def pending(self, key: JobKey) -> bool:
        with self._ready:
            return key in self._waiting

    def settle(self, key: JobKey) -> None:
        """In batch mode, until `key`'s last job has run and its result was handed on; at once in real
        time, where a gate reads what has come back so far and the video never waits."""
        if not self.lossless:
            return
        with self._ready:
            self._ready.wait_for(
                lambda: (key not in self._waiting and self._running != key) or self._closed or self.stop.is_set()
            )

    def _next(self) -> Job | None:
        with self._ready:
            while not self._waiting and not self._closed and not self.stop.is_set():
                self._ready.wait(0.5)
            if self._closed or self.stop.is_set():
                return None
            key, job = self._waiting.popitem(last=False)
            self._running = key
            self._ready.notify_all()  # a lossless submit waiting for this key's place
            return job

    def _finished(self) -> None:
        with self._ready:
            self._running = None
            self._ready.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Until nothing waits or runs (the end of a batch run, and tests)."""
        with self._ready:
            return self._ready.wait_for(lambda: not self._waiting and self._running is None, timeout)

    def run(self) -> None:
        while (job := self._next()) is not None:
            try:
                result = job.run()
            except Exception as exc:  # one bad crop never ends the worker; the caller's counters say so
                self.failed += 1
                log.warning("inference for %s/%s failed: %s", *job.key, exc)
                self._finished()
                continue
            self.ran += 1
            try:
                job.done(result)
            finally:
                self._finished()

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="edge-app-worker", daemon=True)
        self._thread.start()

    def close(self, timeout: float = 1.0) -> None:
        with self._ready:
            self._closed = True
            self._ready.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    def stats(self) -> dict[str, int]:
        with self._ready:
            return {"ran": self.ran, "replaced": self.replaced, "failed": self.failed, "waiting": len(self._waiting)}
