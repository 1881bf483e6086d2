"""The pictures: orderings are pure and checked; each picture is a real PNG or SVG."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edge_app import plots
from edge_app.evaluate.metrics import Confusion, confusion, per_class_scores

PNG = b"\x89PNG\r\n\x1a\n"


def test_confused_classes_end_up_side_by_side() -> None:
    # classes 0 and 3 confuse each other, so do 1 and 4; 2 is confused with nothing
    matrix = np.diag([10, 10, 10, 10, 10])
    matrix[0, 3] = matrix[3, 0] = 4
    matrix[1, 4] = matrix[4, 1] = 4
    order = list(plots.cluster_order(matrix))
    assert sorted(order) == [0, 1, 2, 3, 4]
    assert abs(order.index(0) - order.index(3)) == 1
    assert abs(order.index(1) - order.index(4)) == 1
    assert order[-1] == 2


def test_the_pareto_front_keeps_only_models_nothing_beats() -> None:
    points = [
        plots.Point("fast", 1.0, 0.50, 1.0),
        plots.Point("slow-worse", 5.0, 0.40, 3.0),
        plots.Point("mid", 3.0, 0.70, 4.0),
        plots.Point("slow-best", 9.0, 0.80, 20.0),
    ]
    assert [p.name for p in plots.pareto_front(points)] == ["fast", "mid", "slow-best"]


def _evaluation(n: int) -> tuple[Confusion, list[str]]:
    rng = np.random.default_rng(1)
    truth = rng.integers(0, n, 400)
    predicted = np.where(rng.random(400) < 0.8, truth, rng.integers(0, n, 400))
    table = confusion(truth, predicted)
    return table, [f"class {i}" for i in range(n)]


def test_the_confusion_picture_and_the_class_bars_are_written(tmp_path: Path) -> None:
    for n in (4, 120):  # few classes: names and counts; many: neither, still readable
        table, names = _evaluation(n)
        picture = tmp_path / f"confusion-{n}.png"
        plots.confusion(picture, table, names, "test")
        assert picture.read_bytes()[:8] == PNG
        bars = tmp_path / f"per-class-{n}.svg"
        plots.class_scores(bars, per_class_scores(table, names), "test")
        assert b"<svg" in bars.read_bytes()[:400]


def test_the_comparison_plot(tmp_path: Path) -> None:
    picture = tmp_path / "compare.png"
    plots.comparison(picture, [plots.Point("a", 1.0, 0.5, 1.0), plots.Point("b", 4.0, 0.8, 14.0)], "test")
    assert picture.read_bytes()[:8] == PNG
