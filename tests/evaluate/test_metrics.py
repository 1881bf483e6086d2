"""Metrics agree with scikit-learn on the same predictions, and with hand-counted examples."""

from __future__ import annotations

import numpy as np
import pytest

from edge_app.evaluate.metrics import compute, confusion

sklearn_metrics = pytest.importorskip(
    "sklearn.metrics", reason="scikit-learn is the reference (pip install -e .[test])"
)

NAMES = [f"class {i}" for i in range(1001)]


def _assert_agrees_with_sklearn(truth: np.ndarray, top: np.ndarray) -> None:
    m = compute(truth, top, NAMES)
    predicted = top[:, 0]
    labels = np.union1d(truth, predicted)
    p, r, f, s = sklearn_metrics.precision_recall_fscore_support(truth, predicted, labels=labels, zero_division=0)
    assert [c.index for c in m.per_class] == labels.tolist()
    np.testing.assert_allclose([c.precision for c in m.per_class], p, atol=1e-12)
    np.testing.assert_allclose([c.recall for c in m.per_class], r, atol=1e-12)
    np.testing.assert_allclose([c.f1 for c in m.per_class], f, atol=1e-12)
    assert [c.support for c in m.per_class] == s.tolist()
    assert [c.index for c in m.classes] == np.unique(truth).tolist(), "the classes are those of the truth"
    assert {c.index for c in m.predicted_only} == set(np.setdiff1d(predicted, truth).tolist())
    for average in ("macro", "weighted"):  # over the truth classes: scikit-learn's labels=
        ap, ar, af, _ = sklearn_metrics.precision_recall_fscore_support(
            truth, predicted, labels=np.unique(truth), average=average, zero_division=0
        )
        assert (m.macro if average == "macro" else m.weighted)("precision") == pytest.approx(ap, abs=1e-12)
        assert (m.macro if average == "macro" else m.weighted)("recall") == pytest.approx(ar, abs=1e-12)
        assert (m.macro if average == "macro" else m.weighted)("f1") == pytest.approx(af, abs=1e-12)
    assert m.top1 == pytest.approx(sklearn_metrics.accuracy_score(truth, predicted))
    np.testing.assert_array_equal(m.confusion.matrix, sklearn_metrics.confusion_matrix(truth, predicted, labels=labels))


@pytest.mark.parametrize("seed", range(6))
def test_random_predictions_agree_with_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, classes = int(rng.integers(1, 400)), int(rng.integers(2, 60))
    truth = rng.integers(0, classes, n)
    top = rng.integers(0, classes + 5, (n, 5))  # some predicted classes never occur in the truth
    right = rng.random(n) < 0.6
    top[right, 0] = truth[right]
    _assert_agrees_with_sklearn(truth, top)


def test_sklearn_agreement_with_many_classes_and_the_default_zero_division() -> None:
    rng = np.random.default_rng(42)
    truth = rng.integers(1, 1001, 3000)
    top = np.where(rng.random((3000, 1)) < 0.7, truth[:, None], rng.integers(1, 1001, (3000, 1)))
    _assert_agrees_with_sklearn(truth, top)
    with pytest.warns(Warning):  # sklearn's default warns and scores 0: the same numbers as ours
        p = sklearn_metrics.precision_score(truth, top[:, 0], labels=np.unique(truth), average="macro")
    assert compute(truth, top, NAMES).macro("precision") == pytest.approx(p)


def test_hand_counted_example() -> None:
    truth = np.array([1, 1, 1, 2, 2, 3])
    top = np.array([[1, 2], [1, 3], [2, 1], [2, 1], [3, 2], [3, 1]])
    m = compute(truth, top, NAMES)
    assert (m.n, m.top1_correct, m.topk_correct, m.k) == (6, 4, 6, 2)
    by_class = {c.index: c for c in m.per_class}
    assert (by_class[1].precision, by_class[1].recall) == (1.0, pytest.approx(2 / 3))
    assert (by_class[2].precision, by_class[2].recall, by_class[2].f1) == (0.5, 0.5, 0.5)
    assert (by_class[3].precision, by_class[3].recall, by_class[3].support, by_class[3].predicted) == (0.5, 1.0, 1, 2)
    assert m.confusion.classes.tolist() == [1, 2, 3]
    assert m.confusion.matrix.tolist() == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]


def test_predicted_only_classes_are_apart_from_the_classes_of_the_data() -> None:
    """Two photos of two classes, one predicted as a third class: two classes, not three."""
    m = compute(np.array([1, 2]), np.array([[1], [7]]), NAMES)
    assert [c.index for c in m.classes] == [1, 2] and [(c.index, c.predicted) for c in m.predicted_only] == [(7, 1)]
    assert m.macro("recall") == 0.5 and m.macro("precision") == 0.5, "class 2 scores 0, class 7 is not averaged"
    assert [c.index for c in m.per_class] == [1, 2, 7], "per_class.csv and the confusion matrix keep every class"


def test_most_confused_pairs_are_largest_first() -> None:
    truth = np.array([5, 5, 5, 7, 7, 9, 9, 9])
    top = np.array([[7], [7], [5], [9], [7], [5], [5], [7]])
    pairs = [(t.index, p.index, count) for t, p, count in compute(truth, top, NAMES).most_confused()]
    assert pairs == [(5, 7, 2), (9, 5, 2), (7, 9, 1), (9, 7, 1)]
    assert compute(truth, top, NAMES).most_confused(limit=1) == compute(truth, top, NAMES).most_confused()[:1]


def test_no_images_gives_zeros_not_errors() -> None:
    m = compute(np.array([], dtype=int), np.zeros((0, 5), dtype=int), NAMES)
    assert (m.n, m.top1, m.topk, m.macro("f1"), m.weighted("f1"), m.most_confused()) == (0, 0.0, 0.0, 0.0, 0.0, [])
    assert confusion(np.array([], dtype=int), np.array([], dtype=int)).matrix.shape == (0, 0)
