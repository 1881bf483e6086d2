"""The confusion matrix files: CSV round trip, and a picture that stays readable up to 1000 classes."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from edge_app import plots
from edge_app.evaluate.confusion import write_csv
from edge_app.evaluate.metrics import Confusion, confusion
from tests.helpers.pictures import imread

NAMES = ["background"] + [f"class {i}, synonym" for i in range(1, 1001)]


def _table(truth: list[int], predicted: list[int]) -> Confusion:
    return confusion(np.array(truth), np.array(predicted))


def test_csv_has_only_present_classes_with_truth_rows(tmp_path: Path) -> None:
    table = _table([3, 3, 7], [3, 9, 7])
    write_csv(tmp_path / "c.csv", table, NAMES)
    rows = list(csv.reader((tmp_path / "c.csv").open(encoding="utf-8")))
    assert rows[0] == ["truth \\ predicted", NAMES[3], NAMES[7], NAMES[9]]
    assert rows[1:] == [[NAMES[3], "1", "0", "1"], [NAMES[7], "0", "1", "0"], [NAMES[9], "0", "0", "0"]]


def test_the_picture_stays_readable_from_3_to_1000_classes(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    truth = np.arange(1, 1001)
    predicted = truth.copy()
    wrong = rng.choice(1000, 40, replace=False)
    predicted[wrong] = rng.integers(1, 1001, 40)
    for name, table in (("few", _table([1, 2, 2, 3], [1, 2, 3, 3])), ("all", confusion(truth, predicted))):
        path = tmp_path / f"{name}.png"
        plots.confusion(path, table, NAMES, name)
        image = imread(path)
        assert min(image.shape[:2]) > 300
