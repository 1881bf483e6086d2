"""Choosing the head's regularisation strength by stratified k-fold cross-validation.

Only the training split is searched; the validation split stays untouched for the final verdict.
Folds are made of photos, stratified by class: a held-out photo is scored on its original view
only, and none of its augmented views is trained on. Within a fold the strengths are fitted from
strongest to weakest, each warm-started from the previous one, so the whole path costs little
more than one fit. L-BFGS has no learning rate or epoch count to tune: the strength is the one
knob.

The choice: the best mean held-out top-1; on a tie, the lower held-out log-loss (the better
calibrated head); on a tie again, the stronger regularisation.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from edge_app.train.head import Head, HeadOptions, fit_head, log_loss, one_blas_thread
from edge_app.train.split import stratified_folds

GRID = (1.0, 3e-1, 1e-1, 3e-2, 1e-2, 3e-3, 1e-3, 3e-4, 1e-4)  # strongest first: each fit warm-starts the next
DEFAULT_L2 = 1e-2  # used when there are too few photos to search
MAX_FOLDS = 5


def folds_for(y: np.ndarray, classes: int) -> int:
    """As many folds as the smallest class has photos, at most MAX_FOLDS."""
    return int(min(MAX_FOLDS, np.bincount(y, minlength=classes).min()))


@dataclass(frozen=True)
class Trial:
    l2: float
    top1: float  # mean held-out top-1 over the folds
    loss: float  # mean held-out log-loss


@dataclass(frozen=True)
class Search:
    trials: list[Trial]
    chosen: float
    folds: int
    note: str = ""  # why the search was skipped, if it was

    def table(self) -> str:
        if not self.trials:
            return f"hyperparameter search skipped: {self.note}; l2 = {self.chosen:g}"
        lines = [
            f"hyperparameter search: {self.folds}-fold cross-validation on the training split",
            f"  {'l2':>8} {'CV top-1':>9} {'CV log-loss':>12}",
        ]
        for trial in self.trials:
            mark = "  <- chosen" if trial.l2 == self.chosen else ""
            lines.append(f"  {trial.l2:8.0e} {trial.top1:9.1%} {trial.loss:12.4f}{mark}")
        return "\n".join(lines)


@one_blas_thread
def search_l2(
    x: np.ndarray,
    y: np.ndarray,
    classes: int,
    seed: int = 0,
    grid: tuple[float, ...] = GRID,
    on_fit: Callable[[], None] | None = None,
    workers: int = 1,
) -> Search:
    """x: (photos, views, dim) embeddings, view 0 the original; y: (photos,) class per photo.
    `on_fit` is called after each of the folds x len(grid) fits (for a progress bar).

    The folds are independent, so `workers` threads fit them side by side, each on one BLAS
    thread, with the same result as one. `edge-app train` gives every core; teaching beside the
    live pipeline keeps one, so it never takes a core from the camera."""
    folds = folds_for(y, classes)
    if folds < 2:
        return Search([], DEFAULT_L2, 0, f"a class has only {folds} training photo(s), cross-validation needs 2")
    fold_of = stratified_folds(y, folds, seed)
    lock = threading.Lock()

    def fitted() -> None:
        if on_fit:
            with lock:
                on_fit()

    def scores(fold: int) -> tuple[list[float], list[float]]:
        """Held-out top-1 and log-loss of every strength, fitted on the other folds."""
        train, held = fold_of != fold, fold_of == fold
        xt = x[train].reshape(-1, x.shape[-1])
        yt = np.repeat(y[train], x.shape[1])
        previous: Head | None = None
        correct, losses = [], []
        for l2 in grid:
            previous = fit_head(xt, yt, classes, HeadOptions(l2=l2), init=previous)
            logits = previous.logits(x[held, 0])
            correct.append(float(np.mean(np.argmax(logits, axis=1) == y[held])))
            losses.append(log_loss(logits, y[held]))
            fitted()
        return correct, losses

    with ThreadPoolExecutor(max(1, min(workers, folds)), thread_name_prefix="head-search") as pool:
        rows = list(pool.map(scores, range(folds)))
    correct = np.array([row[0] for row in rows])
    losses = np.array([row[1] for row in rows])
    trials = [Trial(l2, float(correct[:, i].mean()), float(losses[:, i].mean())) for i, l2 in enumerate(grid)]
    best = max(trials, key=lambda t: (round(t.top1, 9), -round(t.loss, 9), t.l2))
    return Search(trials, best.l2, folds)
