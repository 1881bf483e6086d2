"""Classifying one frame, and when its failures stop the run: every failure is counted, and only
failures that persist (three in a row, with no success for the error window) are fatal, so a
glitch of the interpreter or one odd frame never ends a service."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from edge_app.frames import Frame, Result
from edge_app.model.classifier import Classifier
from edge_app.stats import Counters

log = logging.getLogger("edge_app.pipeline")


@dataclass
class ErrorPolicy:
    """Pure bookkeeping of failures in a row, on a clock the caller passes in."""

    window_s: float
    in_row: int = 0
    last_success: float = 0.0

    def failed(self, now: float) -> tuple[bool, bool]:
        """(the first of a run of failures, failing long enough to be fatal)."""
        self.in_row += 1
        return self.in_row == 1, self.in_row >= 3 and now - self.last_success > self.window_s

    def succeeded(self, now: float) -> int:
        """The failures this success ends (0: none)."""
        ended, self.in_row, self.last_success = self.in_row, 0, now
        return ended


class Inference:
    def __init__(self, counters: Counters, window_s: float, fail: Callable[[str], None]) -> None:
        self._counters = counters
        self._fail = fail
        self._policy = ErrorPolicy(window_s, last_success=time.monotonic())
        self._lock = threading.Lock()  # batch lanes share the policy

    def __call__(self, lane: Classifier, frame: Frame, tensor: np.ndarray | None = None) -> Result | None:
        """Classify one frame; a failure is counted, and fatal only when it persists."""
        try:
            result = lane.classify_frame(frame, tensor)
        except Exception as exc:
            self._failed(exc)
            return None
        with self._lock:
            ended = self._policy.succeeded(time.monotonic())
        if ended:
            log.info("inference recovered after %d errors", ended)
        return result

    def _failed(self, exc: Exception) -> None:
        self._counters.add("inference_errors")
        window = self._policy.window_s
        with self._lock:
            first, persistent = self._policy.failed(time.monotonic())
        if first:
            log.warning("inference failed: %s (counting; fatal if it persists %.0f s)", exc, window)
        if persistent:
            self._fail(f"inference kept failing for {window:.0f} s: {exc}")
