"""One model measured on one dataset: predictions, metrics and what was skipped."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from edge_app.errors import EdgeAppError
from edge_app.evaluate.dataset import Dataset, Listing, assign
from edge_app.evaluate.labelmatch import LabelMatcher
from edge_app.evaluate.metrics import Metrics, compute
from edge_app.evaluate.runner import Predictions, predict
from edge_app.model.classifier import Classifier
from edge_app.progress import Progress

LIST_LIMIT = 10  # unknown labels, unreadable files and confused pairs listed in a summary


@dataclass(frozen=True)
class Evaluation:
    model: str
    names: list[str]  # the model's labels, by output index
    matcher: LabelMatcher
    dataset: Dataset
    predictions: Predictions
    metrics: Metrics

    @property
    def skipped(self) -> dict[str, int]:
        return {
            "non_image": self.dataset.listing.non_image,
            "unreadable": len(self.predictions.failed),
            "unknown_label": self.dataset.unknown_count,
        }

    def unreadable(self) -> list[str]:
        return [why for _, why in sorted(self.predictions.failed.items())]

    def summary(self) -> dict[str, object]:
        m = self.metrics
        extra = m.predicted_only  # filtered and sorted on each access
        invoke = self.predictions.invoke_ms
        return {
            "model": self.model,
            "data": str(self.dataset.listing.data),
            "form": self.dataset.listing.form,
            "n": m.n,
            "top1": round(m.top1, 6),
            "top5": round(m.topk, 6),
            "top1_correct": m.top1_correct,
            "top5_correct": m.topk_correct,
            **{
                f"{avg}_{field}": round(getattr(m, avg)(field), 6)
                for avg in ("macro", "weighted")
                for field in ("precision", "recall", "f1")
            },
            "classes": len(m.classes),  # of the data; the macro averages run over these
            "averages_over": "truth classes",
            "predicted_only": {
                "classes": len(extra),
                "images": sum(c.predicted for c in extra),
                "most_predicted": [
                    {"index": c.index, "label": c.name, "predicted": c.predicted} for c in extra[:LIST_LIMIT]
                ],
            },
            "skipped": self.skipped,
            "unknown_labels": dict(self.dataset.unknown.most_common(LIST_LIMIT)),
            "unreadable_files": self.unreadable()[:LIST_LIMIT],
            "most_confused": [
                {"truth": t.name, "predicted": p.name, "count": count} for t, p, count in m.most_confused(LIST_LIMIT)
            ],
            "images_per_s": round(self.predictions.images_per_s, 2),
            "invoke_p50_ms": round(float(np.median(invoke)), 3) if len(invoke) else None,
            "per_class": [c.as_dict() for c in m.per_class],
        }


def nothing_measured(evaluation: Evaluation) -> EdgeAppError | None:
    """Why not a single image was measured, as an error for the user, or None."""
    if evaluation.metrics.n:
        return None
    listing = evaluation.dataset.listing
    unknown = evaluation.dataset.unknown
    if not evaluation.dataset.samples:
        examples = ", ".join(repr(label) for label, _ in unknown.most_common(3))
        return EdgeAppError(
            f"none of the labels in {listing.data} are labels of {evaluation.model} (e.g. {examples})",
            "name classes by the model's label text or class index, or pass the matching --labels file",
        )
    return EdgeAppError(
        f"none of the {len(evaluation.dataset.samples)} images in {listing.data} could be read",
        "check the files: " + evaluation.unreadable()[0],
    )


def evaluate(
    lanes: Sequence[Classifier],
    listing: Listing,
    workers: int | None = None,
    progress: Progress | None = None,
) -> Evaluation:
    """`lanes`: classifiers of one model (see edge_app.model.lanes)."""
    classifier = lanes[0]
    matcher = LabelMatcher(classifier.labels)
    dataset = assign(listing, matcher)
    if progress is not None:
        progress.total = len(dataset.samples)
    on_image = progress.advance if progress is not None else None
    predictions = predict(lanes, [s.path for s in dataset.samples], workers=workers, on_image=on_image)
    ok = predictions.ok
    truth = np.array([s.truth for s in dataset.samples], dtype=np.int64)[ok]
    top = matcher.canonical[predictions.top[ok]]
    metrics = compute(truth, top, classifier.labels)
    return Evaluation(classifier.info.name, classifier.labels, matcher, dataset, predictions, metrics)
