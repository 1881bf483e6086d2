"""Invoke latency of a loaded classifier, after a warm-up."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np

from edge_app.model.classifier import Classifier


@dataclass(frozen=True)
class BenchResult:
    model: str
    runtime: str
    delegate: str
    threads: int
    runs: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def invoke_times(classifier: Classifier, runs: int, warmup: int = 10) -> np.ndarray:
    """Milliseconds per invoke; the input is set once, as a bare interpreter loop would.
    The first invoke goes through `infer`, so a model that fails to run is one clear error."""
    interpreter = classifier.interpreter
    spec = classifier.spec
    rng = np.random.default_rng(0)
    tensor = rng.integers(0, 256, (1, spec.height, spec.width, 3), dtype=np.uint8)
    classifier.infer(classifier.prepare(tensor[0], "rgb"))
    invoke = interpreter.invoke
    for _ in range(warmup):
        invoke()
    times = np.empty(runs)
    clock = time.perf_counter
    for i in range(runs):
        start = clock()
        invoke()
        times[i] = clock() - start
    return times * 1000.0


def summarize(classifier: Classifier, times_ms: np.ndarray) -> BenchResult:
    p50, p90, p99 = np.percentile(times_ms, [50, 90, 99])
    info = classifier.info
    return BenchResult(
        info.name,
        f"{info.runtime} {info.runtime_version}",
        info.delegate,
        info.threads,
        len(times_ms),
        round(float(p50), 3),
        round(float(p90), 3),
        round(float(p99), 3),
        round(float(times_ms.mean()), 3),
    )
