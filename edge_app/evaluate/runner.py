"""Classify many image files fast, with exactly the live path's preprocessing.

Each image is one task on a small thread pool: `read_image`, `Classifier.prepare`, then
`Classifier.infer` on whichever *lane* (a Classifier of the same model) is free, and top-k.
cv2 and the interpreter release the GIL, so decoding overlaps inference. Tasks are submitted
a bounded number ahead and collected in order.

Lanes (see edge_app.model.lanes): N single-thread interpreters side by side, every core by
default, outrun one N-thread interpreter on a batch.

A file that cannot be decoded is recorded and skipped; a model that cannot run is fatal.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import cv2
import numpy as np

from edge_app.errors import EdgeAppError, Interrupted, first_line
from edge_app.images import read_image
from edge_app.model.classifier import Classifier
from edge_app.model.lanes import LanePool, cores
from edge_app.model.postprocess import top_k

TOP_K = 5


@dataclass(frozen=True)
class Predictions:
    top: np.ndarray  # (n, k) model output indices, best first; a row of -1 where the file failed
    scores: np.ndarray  # (n, k) float32 scores of those outputs
    failed: dict[int, str]  # row -> why the file could not be read (names the file)
    invoke_ms: np.ndarray  # one per classified image
    seconds: float  # wall time for the whole run

    @property
    def ok(self) -> np.ndarray:
        return self.top[:, 0] >= 0

    @property
    def images_per_s(self) -> float:
        done = int(self.ok.sum())
        return done / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class Ranked:
    top: list[int]
    scores: list[float]
    invoke_ms: float


Outcome = Ranked | str  # a ranked image, or why its file could not be used
Item = TypeVar("Item")
Out = TypeVar("Out")


class _Lanes:
    """Ranks one image file on whichever lane is free."""

    def __init__(self, classifiers: Sequence[Classifier], k: int) -> None:
        self.prepare = classifiers[0].prepare  # pure and thread-safe
        self.labels = classifiers[0].labels
        self.k = k
        self.pool = LanePool(classifiers)

    def run(self, path: Path) -> Outcome:
        try:
            tensor = self.prepare(read_image(path), "bgr")
        except EdgeAppError as exc:
            return exc.message
        except cv2.error as exc:
            return f"{path} could not be prepared ({first_line(exc)})"
        with self.pool.lend() as classifier:
            scores, ms = classifier.infer(tensor)
        ranked = top_k(scores, self.labels, self.k)
        return Ranked([label.index for label in ranked], [label.score for label in ranked], ms)


def outcomes(task: Callable[[Item], Out], items: Sequence[Item], workers: int) -> Iterator[tuple[int, Out]]:
    """(row, task(item)) in order, run on `workers` threads with at most 2 x workers + 1 items in flight."""
    depth = 2 * workers + 1
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="eval") as pool:
        pending: deque[tuple[int, Future[Out]]] = deque()
        upcoming = iter(enumerate(items))
        try:
            while True:
                while len(pending) < depth:
                    item = next(upcoming, None)
                    if item is None:
                        break
                    pending.append((item[0], pool.submit(task, item[1])))
                if not pending:
                    return
                row, future = pending.popleft()
                yield row, future.result()
        finally:
            for _, future in pending:
                future.cancel()


def predict(
    classifiers: Sequence[Classifier],
    paths: Sequence[Path],
    k: int = TOP_K,
    workers: int | None = None,
    on_image: Callable[[], None] | None = None,
) -> Predictions:
    """Top-k outputs for every file; `on_image` is called after each (for a progress bar).

    `workers` threads decode and run the lanes; by default one per core, and at least one per lane.
    """
    k = min(k, len(classifiers[0].labels))
    top = np.full((len(paths), k), -1, dtype=np.int64)
    scores = np.zeros((len(paths), k), dtype=np.float32)
    failed: dict[int, str] = {}
    invoke_ms: list[float] = []
    start = time.perf_counter()
    done = 0
    try:
        for row, outcome in outcomes(_Lanes(classifiers, k).run, paths, workers or max(cores(), len(classifiers))):
            if isinstance(outcome, str):
                failed[row] = outcome
            else:
                top[row] = outcome.top
                scores[row] = outcome.scores
                invoke_ms.append(outcome.invoke_ms)
            done += 1
            if on_image:
                on_image()
    except KeyboardInterrupt as exc:
        raise Interrupted(done, len(paths), "photos") from exc
    return Predictions(top, scores, failed, np.array(invoke_ms), time.perf_counter() - start)
