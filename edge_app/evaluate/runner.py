"""Classify many image files fast, with exactly the live path's preprocessing.

Decoding and `Classifier.prepare` run on a small thread pool (cv2 releases the GIL) a bounded
number of images ahead, in order, while this thread runs `Classifier.infer` on the previous
one. A file that cannot be decoded is recorded and skipped; a model that cannot run is fatal.
"""

from __future__ import annotations

import os
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence

import cv2
import numpy as np

from edge_app.errors import EdgeAppError
from edge_app.images import read_image
from edge_app.model.classifier import Classifier
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


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _load(classifier: Classifier, path: Path) -> np.ndarray:
    return classifier.prepare(read_image(path), "bgr")


def prepared(classifier: Classifier, paths: Sequence[Path], workers: int) -> Iterator[tuple[int, np.ndarray | str]]:
    """(row, input tensor or why the file failed) in order, decoded `workers` at a time ahead of the consumer."""
    depth = 2 * workers + 1
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="eval-decode") as pool:
        pending: deque[tuple[int, Future[np.ndarray]]] = deque()
        upcoming = iter(enumerate(paths))
        try:
            while True:
                while len(pending) < depth:
                    item = next(upcoming, None)
                    if item is None:
                        break
                    pending.append((item[0], pool.submit(_load, classifier, item[1])))
                if not pending:
                    return
                row, future = pending.popleft()
                try:
                    yield row, future.result()
                except EdgeAppError as exc:
                    yield row, exc.message
                except cv2.error as exc:
                    yield row, f"{paths[row]} could not be prepared ({_first_line(exc)})"
        finally:
            for _, future in pending:
                future.cancel()


def predict(
    classifier: Classifier,
    paths: Sequence[Path],
    k: int = TOP_K,
    workers: int | None = None,
    on_image: Callable[[], None] | None = None,
) -> Predictions:
    """Top-k outputs for every file; `on_image` is called after each (for a progress bar)."""
    k = min(k, len(classifier.labels))
    top = np.full((len(paths), k), -1, dtype=np.int64)
    scores = np.zeros((len(paths), k), dtype=np.float32)
    failed: dict[int, str] = {}
    invoke_ms: list[float] = []
    start = time.perf_counter()
    for row, tensor in prepared(classifier, paths, workers or default_workers()):
        if isinstance(tensor, str):
            failed[row] = tensor
        else:
            output, ms = classifier.infer(tensor)
            ranked = top_k(output, classifier.labels, k)
            top[row] = [label.index for label in ranked]
            scores[row] = [label.score for label in ranked]
            invoke_ms.append(ms)
        if on_image:
            on_image()
    return Predictions(top, scores, failed, np.array(invoke_ms), time.perf_counter() - start)
