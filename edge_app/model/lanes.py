"""Several interpreters of one model, for throughput.

A batch of frames or photos runs faster on N single-thread interpreters side by side than on
one N-thread interpreter: there is no per-layer synchronisation, and decoding fills the gaps
instead of stalling a thread pool. Interpreter threads do not change a quantized model's
output, so lanes agree with `classify` image by image. An Edge TPU runs one model at a time:
it gets one lane.
"""

from __future__ import annotations

import contextlib
import os
import queue
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace

from edge_app.model.classifier import Classifier, ModelOptions


def cores() -> int:
    return max(1, os.cpu_count() or 1)


def shape(options: ModelOptions, lanes: int | None = None) -> tuple[int, int]:
    """(lanes, threads of each) within a budget of every core.

    Neither given: one single-thread lane per core. `options.threads` given: as many lanes of
    that many threads as fit. `lanes` given: the cores shared among them.
    """
    if lanes is None:
        lanes = max(1, cores() // options.threads) if options.threads else cores()
    return lanes, options.threads or max(1, cores() // lanes)


def side_by_side(first: Classifier, lanes: int) -> list[Classifier]:
    """`first` and clones of it, `lanes` in all (an Edge TPU runs one model at a time: one lane)."""
    if first.info.delegate != "cpu":
        return [first]
    return [first] + [first.clone(first.info.threads) for _ in range(lanes - 1)]


def open_lanes(
    options: ModelOptions, lanes: int | None = None, warn: Callable[[str], None] | None = None
) -> list[Classifier]:
    """Classifiers of one model to run side by side (see shape)."""
    count, threads = shape(options, lanes)
    first = Classifier.open(replace(options, threads=threads), **({"warn": warn} if warn else {}))
    return side_by_side(first, count)


class LanePool:
    """Lends each task a free classifier; with as many workers as lanes, nobody waits."""

    def __init__(self, classifiers: Sequence[Classifier]) -> None:
        self._free: queue.SimpleQueue[Classifier] = queue.SimpleQueue()
        for classifier in classifiers:
            self._free.put(classifier)

    @contextlib.contextmanager
    def lend(self) -> Iterator[Classifier]:
        classifier = self._free.get()
        try:
            yield classifier
        finally:
            self._free.put(classifier)
