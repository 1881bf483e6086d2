"""The confusion matrix files: CSV round trip, and a PNG that stays readable up to 1000 classes."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np

from edge_app.evaluate.confusion import MAX_SIDE, cell_size, grid, render, write_csv, write_png
from edge_app.evaluate.metrics import Confusion, confusion

NAMES = ["background"] + [f"class {i}, synonym" for i in range(1, 1001)]
WHITE = (255, 255, 255)


def _table(truth: list[int], predicted: list[int]) -> Confusion:
    return confusion(np.array(truth), np.array(predicted))


def test_csv_has_only_present_classes_with_truth_rows(tmp_path: Path) -> None:
    table = _table([3, 3, 7], [3, 9, 7])
    write_csv(tmp_path / "c.csv", table, NAMES)
    rows = list(csv.reader((tmp_path / "c.csv").open(encoding="utf-8")))
    assert rows[0] == ["truth \\ predicted", NAMES[3], NAMES[7], NAMES[9]]
    assert rows[1:] == [[NAMES[3], "1", "0", "1"], [NAMES[7], "0", "1", "0"], [NAMES[9], "0", "0", "0"]]


def test_every_non_empty_cell_is_visible_and_empty_cells_are_white() -> None:
    rng = np.random.default_rng(1)
    truth = np.arange(1, 1001)
    predicted = truth.copy()
    wrong = rng.choice(1000, 40, replace=False)
    predicted[wrong] = rng.integers(1, 1001, 40)
    table = confusion(truth, predicted)
    cells = grid(table)
    size = cell_size(len(table.classes))
    assert cells.shape[:2] == (1000 * size, 1000 * size) and cells.shape[0] <= MAX_SIDE
    centre = cells[size // 2 :: size, size // 2 :: size]
    painted = np.any(centre != 255, axis=2)
    np.testing.assert_array_equal(painted, table.matrix > 0)


def test_small_matrices_are_labelled_by_name_big_ones_by_position(output_dir: Path) -> None:
    renamed = [name.upper() for name in NAMES]
    few = _table([1, 1, 2, 3, 3, 3], [1, 2, 2, 3, 3, 1])
    small = render(few, NAMES, "three classes")
    assert cell_size(3) >= 18, "counts are written in cells this big"
    assert not np.array_equal(small, render(few, renamed, "three classes")), "names are drawn"
    everything = confusion(np.arange(1, 1001), np.roll(np.arange(1, 1001), 1))
    big = render(everything, NAMES, "1000 classes")
    assert max(big.shape[:2]) <= MAX_SIDE + 200, "the picture stays loadable"
    assert np.array_equal(big, render(everything, renamed, "1000 classes")), "tick numbers, not unreadable names"
    cv2.imwrite(str(output_dir / "eval_confusion_3.png"), small)
    cv2.imwrite(str(output_dir / "eval_confusion_1000.png"), big)


def test_png_file_is_written(tmp_path: Path) -> None:
    write_png(tmp_path / "c.png", _table([1, 2], [2, 2]), NAMES, "t")
    image = cv2.imread(str(tmp_path / "c.png"))
    assert image is not None and image.shape[1] >= 640
