"""What the running pipeline knows about itself: counts, rates, the newest result.

One object, written by the pipeline threads and read by the overlay, the live view's
/api/status, and systemd's STATUS line.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from edge_app.frames import Frame, Result, worth_showing
from edge_app.pipeline.capture import SourceHealth
from edge_app.stats import Counters, RateMeter, Samples
from edge_app.words import plural


class PipelineState:
    def __init__(self, health: SourceHealth, model: dict[str, object]) -> None:
        self.health = health
        self.model = model
        self.started = time.monotonic()
        self.counters = Counters(
            "captured", "classified", "displayed", "dropped_inference", "dropped_display", "inference_errors"
        )
        self.video_rate = RateMeter()
        self.inference_rate = RateMeter()
        self.inference_ms = Samples(500)
        self.result_age_ms = Samples(5000)
        self.first_result = threading.Event()
        self.stopped = False
        self._lock = threading.Lock()
        self._result: Result | None = None
        self._observers: list[Callable[[Result], None]] = []
        self._sections: dict[str, Callable[[], object]] = {}

    def use_model(self, model: dict[str, object]) -> None:
        """The running model changed (taught from the live view): status and metrics say so."""
        self.model = model

    def add_section(self, name: str, read: Callable[[], object]) -> None:
        """A part of /api/status that another feature keeps (e.g. "regions": each region's state)."""
        self._sections[name] = read

    def on_publish(self, observer: Callable[[Result], None]) -> None:
        """Call `observer` with every result as it is published (it must be quick: metrics)."""
        self._observers.append(observer)

    def publish(self, result: Result) -> None:
        with self._lock:
            self._result = result
        self.counters.add("classified")
        self.inference_rate.tick()
        self.inference_ms.add(result.inference_ms)
        for observer in self._observers:
            observer(result)
        self.first_result.set()

    @property
    def result(self) -> Result | None:
        with self._lock:
            return self._result

    def shown(self, frame: Frame, result: Result | None, now: float) -> None:
        """`frame` was displayed with `result` on it: count it and how old that result was."""
        self.counters.add("displayed")
        self.video_rate.tick(now)
        if result is not None:
            self.result_age_ms.add(result.age_s(frame, now) * 1000.0)

    @property
    def state(self) -> str:
        if self.stopped:
            return "stopped"
        if self.health.connected:
            return "running"
        return "starting" if self.health.reason == "starting" else "no signal"

    def status(self) -> dict[str, object]:
        result = self.result
        counts = self.counters.snapshot()
        age = self.result_age_ms.last()
        state = self.state
        return {
            "healthy": state in ("running", "starting"),
            "state": state,
            "source": self.health.snapshot(),
            "fps": {"video": round(self.video_rate.rate(), 2), "inference": round(self.inference_rate.rate(), 2)},
            "inference_ms": round(result.inference_ms, 3) if result else None,
            "result_age_ms": round(age, 1) if age is not None else None,
            "latency": self._latency(),
            "labels": [label.as_dict() for label in worth_showing(result.top)] if result else [],
            "frame": result.seq if result else None,
            "frames": {k: counts[k] for k in ("captured", "classified", "displayed")},
            "dropped": {"inference": counts["dropped_inference"], "display": counts["dropped_display"]},
            "errors": {"inference": counts["inference_errors"]},
            "uptime_s": round(time.monotonic() - self.started, 1),
            "model": self.model,
            **{name: read() for name, read in self._sections.items()},
        }

    def _latency(self) -> dict[str, float | None]:
        """Recent percentiles: the result age is how old the label on screen is when shown."""

        def p(samples: Samples, q: float) -> float | None:
            value = samples.percentile(q)
            return round(value, 2) if value is not None else None

        return {
            "inference_ms_p50": p(self.inference_ms, 50),
            "result_age_ms_p50": p(self.result_age_ms, 50),
            "result_age_ms_p95": p(self.result_age_ms, 95),
        }

    def totals(self, elapsed_s: float) -> str:
        """What a finished run did, e.g. "900 frames, 900 results, 29.9 fps, 30.1 s"."""
        counts = self.counters.snapshot()
        frames = counts["captured"]
        fps = frames / elapsed_s if elapsed_s > 0 else 0.0
        return f"{plural(frames, 'frame')}, {plural(counts['classified'], 'result')}, {fps:.1f} fps, {elapsed_s:.1f} s"

    def summary_line(self) -> str:
        """Short text for systemd's STATUS= and logs, e.g. "29.8 fps, macaw 0.97"."""
        result = self.result
        if not self.health.connected and self.health.reason != "starting":
            return f"no signal from {self.health.name}: {self.health.reason}"
        label = (
            f"{result.top[0].label.split(',')[0]} {result.top[0].score:.2f}"
            if result and result.top
            else "no result yet"
        )
        return f"{self.video_rate.rate():.1f} fps video, {self.inference_rate.rate():.1f} fps model, {label}"
