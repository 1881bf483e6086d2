"""A trained model's validation, as `edge-app eval` would report it: the validation photos and the
model's scores made into an evaluate.Evaluation (report.py formats it)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from edge_app.evaluate.dataset import Dataset, Entry, Listing, Sample
from edge_app.evaluate.evaluation import Evaluation
from edge_app.evaluate.labelmatch import LabelMatcher
from edge_app.evaluate.metrics import compute
from edge_app.evaluate.runner import TOP_K, Predictions
from edge_app.train.tail import ranked


def validation_evaluation(
    model: str, names: list[str], paths: Sequence[Path], truth: np.ndarray, scores: np.ndarray, data: Path, form: str
) -> Evaluation:
    """The validation photos scored by a trained model, as `edge-app eval` would report them."""
    k = min(TOP_K, len(names))
    top = ranked(scores, k)
    listing = Listing(data, form, [Entry(path, names[t], "text") for path, t in zip(paths, truth)])
    dataset = Dataset(listing, [Sample(path, int(t)) for path, t in zip(paths, truth)])
    predictions = Predictions(top, np.take_along_axis(scores, top, axis=1).astype(np.float32), {}, np.zeros(0), 0.0)
    return Evaluation(model, names, LabelMatcher(names), dataset, predictions, compute(truth, top, names))
