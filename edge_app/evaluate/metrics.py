"""Accuracy, per-class precision/recall/F1 and the confusion matrix. Pure numpy, no I/O.

Per-class scores follow scikit-learn (a class never predicted has precision 0). The classes of
an evaluation are those of the truth: a model that predicts a class the data does not have
(ImageNet's 1000 on 100 photos) is wrong on those photos, but that class is not one more
class of the data. Such predicted-only classes are kept apart (`predicted_only`), and the macro
averages, which weigh classes equally, run over the truth classes only (scikit-learn's
`labels=` the truth classes); weighted averages weigh classes by their images.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ClassScore:
    index: int  # canonical model output
    name: str
    precision: float
    recall: float
    f1: float
    support: int  # images whose truth is this class
    predicted: int  # images predicted as this class

    def as_dict(self) -> dict[str, object]:
        return {
            "index": self.index,
            "label": self.name,
            "precision": round(self.precision, 6),
            "recall": round(self.recall, 6),
            "f1": round(self.f1, 6),
            "support": self.support,
            "predicted": self.predicted,
        }


@dataclass(frozen=True)
class Confusion:
    classes: np.ndarray  # canonical output indices, ascending; rows and columns in this order
    matrix: np.ndarray  # [truth, predicted] counts


@dataclass(frozen=True)
class Metrics:
    n: int
    top1_correct: int
    topk_correct: int
    k: int
    per_class: list[ClassScore]  # truth and predicted-only classes, in the confusion matrix's order
    confusion: Confusion

    @property
    def top1(self) -> float:
        return self.top1_correct / self.n if self.n else 0.0

    @property
    def topk(self) -> float:
        return self.topk_correct / self.n if self.n else 0.0

    @property
    def classes(self) -> list[ClassScore]:
        """The classes of the data: those with images."""
        return [c for c in self.per_class if c.support]

    @property
    def predicted_only(self) -> list[ClassScore]:
        """Classes the model predicted that the data does not have, most predicted first."""
        return sorted((c for c in self.per_class if not c.support), key=lambda c: (-c.predicted, c.index))

    def macro(self, field: str) -> float:
        """The mean over the truth classes."""
        values = [getattr(c, field) for c in self.classes]
        return float(np.mean(values)) if values else 0.0

    def weighted(self, field: str) -> float:
        total = sum(c.support for c in self.per_class)
        return sum(getattr(c, field) * c.support for c in self.per_class) / total if total else 0.0

    def most_confused(self, limit: int = 10) -> list[tuple[ClassScore, ClassScore, int]]:
        """(truth, predicted, images) for the largest off-diagonal cells, largest first."""
        matrix = self.confusion.matrix.copy()
        np.fill_diagonal(matrix, 0)
        rows, cols = np.nonzero(matrix)
        counts = matrix[rows, cols]
        order = np.lexsort((cols, rows, -counts))[:limit]
        return [(self.per_class[rows[i]], self.per_class[cols[i]], int(counts[i])) for i in order]


def confusion(truth: np.ndarray, predicted: np.ndarray) -> Confusion:
    classes = np.union1d(truth, predicted).astype(np.int64)
    matrix = np.zeros((len(classes), len(classes)), dtype=np.int64)
    np.add.at(matrix, (np.searchsorted(classes, truth), np.searchsorted(classes, predicted)), 1)
    return Confusion(classes, matrix)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    out = np.zeros(len(numerator), dtype=np.float64)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def per_class_scores(table: Confusion, names: list[str]) -> list[ClassScore]:
    true_positive = np.diag(table.matrix).astype(np.float64)
    support = table.matrix.sum(axis=1)
    predicted = table.matrix.sum(axis=0)
    precision = _ratio(true_positive, predicted)
    recall = _ratio(true_positive, support)
    f1 = _ratio(2 * true_positive, support + predicted)
    return [
        ClassScore(
            int(c), names[c], float(precision[i]), float(recall[i]), float(f1[i]), int(support[i]), int(predicted[i])
        )
        for i, c in enumerate(table.classes)
    ]


def compute(truth: np.ndarray, top: np.ndarray, names: list[str]) -> Metrics:
    """`truth` (n,) and `top` (n, k) hold canonical output indices, best prediction first."""
    truth = np.asarray(truth, dtype=np.int64).reshape(-1)
    top = np.asarray(top, dtype=np.int64)
    top = top[:, None] if top.ndim == 1 else top
    predicted = top[:, 0]
    table = confusion(truth, predicted)
    return Metrics(
        n=len(truth),
        top1_correct=int(np.sum(predicted == truth)),
        topk_correct=int(np.sum(np.any(top == truth[:, None], axis=1))),
        k=top.shape[1],
        per_class=per_class_scores(table, names),
        confusion=table,
    )
