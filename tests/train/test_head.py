"""The softmax head: L-BFGS multinomial logistic regression, standardisation folded into it."""

from __future__ import annotations

import numpy as np
import pytest

from edge_app.train.head import Head, HeadOptions, Standardizer, fit_head, lbfgs, log_loss, softmax_loss
from edge_app.train.search import search_l2


def blobs(per_class: int = 40, classes: int = 4, dim: int = 64, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Overlapping Gaussian classes with uneven feature scales, like ReLU6 pooled embeddings."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 1.0, (classes, dim))
    scales = rng.uniform(0.05, 3.0, dim)
    y = np.repeat(np.arange(classes), per_class)
    x = (centres[y] + rng.normal(0, 1.5, (len(y), dim))) * scales + 1.0
    return x.astype(np.float32), y


def test_lbfgs_minimises_a_quadratic() -> None:
    target = np.array([3.0, -2.0, 0.5])
    weights = np.array([1.0, 10.0, 100.0])
    found = lbfgs(
        lambda v: (float(np.sum(weights * (v - target) ** 2)), 2 * weights * (v - target)), np.zeros(3), tol=1e-9
    )
    np.testing.assert_allclose(found, target, atol=1e-6)


def test_gradient_matches_finite_differences() -> None:
    x, y = blobs(5, 3, 6)
    objective = softmax_loss(Standardizer.of(x).apply(x), y, 3, 0.1, dtype=np.float64)
    theta = np.random.default_rng(1).normal(0, 0.3, 3 * 7)
    _, grad = objective(theta)
    step = 1e-6
    numeric = [
        (objective(theta + step * e)[0] - objective(theta - step * e)[0]) / (2 * step) for e in np.eye(len(theta))
    ]
    np.testing.assert_allclose(grad, numeric, atol=1e-6)


def test_standardisation_folds_into_one_affine_map() -> None:
    x, y = blobs()
    standard = Standardizer.of(x)
    w, b = np.random.default_rng(2).normal(size=(4, x.shape[1])), np.arange(4.0)
    raw_w, raw_b = standard.fold(w, b)
    np.testing.assert_allclose(x @ raw_w.T + raw_b, standard.apply(x) @ w.T + b, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(
        np.concatenate(standard.unfold(raw_w, raw_b), axis=None), np.concatenate([w, b], axis=None)
    )


def test_fit_is_deterministic_and_learns() -> None:
    x, y = blobs()
    head = fit_head(x, y, 4, HeadOptions(l2=1e-2))
    assert isinstance(head, Head) and head.weights.shape == (4, 64) and head.weights.dtype == np.float32
    assert np.mean(head.predict(x) == y) > 0.9
    again = fit_head(x, y, 4, HeadOptions(l2=1e-2))
    np.testing.assert_array_equal(head.weights, again.weights)
    low, high = head.logit_range
    logits = head.logits(x)
    assert low == pytest.approx(float(logits.min()), abs=1e-4) and high == pytest.approx(float(logits.max()), abs=1e-4)


def test_warm_start_reaches_the_same_optimum() -> None:
    x, y = blobs()
    cold = fit_head(x, y, 4, HeadOptions(l2=1e-3, tol=1e-8, max_iter=2000))
    warm = fit_head(
        x, y, 4, HeadOptions(l2=1e-3, tol=1e-8, max_iter=2000), init=fit_head(x, y, 4, HeadOptions(l2=1e-1))
    )
    np.testing.assert_allclose(cold.logits(x), warm.logits(x), atol=1e-3)


def test_same_solution_as_scikit_learn() -> None:
    linear_model = pytest.importorskip(
        "sklearn.linear_model", reason="scikit-learn is the reference (pip install -e .[test])"
    )
    x, y = blobs()
    l2 = 1e-2
    ours = fit_head(x, y, 4, HeadOptions(l2=l2, tol=1e-9, max_iter=3000))
    standard = Standardizer.of(x)
    # scikit-learn minimises C * sum(loss) + |W|^2 / 2, i.e. mean loss + |W|^2 / (2 C n)
    reference = linear_model.LogisticRegression(C=1.0 / (l2 * len(y)), tol=1e-10, max_iter=5000).fit(
        standard.apply(x), y
    )
    weights, bias = standard.fold(reference.coef_, reference.intercept_)
    ours_logits = ours.logits(x).astype(np.float64)
    theirs = x.astype(np.float64) @ weights.T + bias
    # softmax logits are defined up to a constant per row
    np.testing.assert_allclose(
        ours_logits - ours_logits.mean(1, keepdims=True), theirs - theirs.mean(1, keepdims=True), atol=2e-3
    )
    assert log_loss(ours_logits, y) == pytest.approx(log_loss(theirs, y), abs=1e-4)


def test_search_reports_every_strength_and_picks_the_best() -> None:
    x, y = blobs(per_class=15)
    result = search_l2(x[:, None, :], y, 4, seed=0)
    assert result.folds == 5 and len(result.trials) >= 5
    best = max(t.top1 for t in result.trials)
    chosen = next(t for t in result.trials if t.l2 == result.chosen)
    assert chosen.top1 == best
    assert "<- chosen" in result.table() and f"{result.chosen:.0e}" in result.table()
    assert search_l2(x[:, None, :], y, 4, seed=0).chosen == result.chosen


def test_folds_fitted_side_by_side_give_the_same_search_and_count_every_fit() -> None:
    x, y = blobs(per_class=15)
    fits: list[int] = []
    alone = search_l2(x[:, None, :], y, 4, seed=3)
    together = search_l2(x[:, None, :], y, 4, seed=3, on_fit=lambda: fits.append(1), workers=3)
    assert together == alone
    assert len(fits) == together.folds * len(together.trials)


def test_search_uses_as_many_folds_as_the_smallest_class_allows() -> None:
    x, y = blobs(per_class=4)
    assert search_l2(x[:, None, :], y, 4).folds == 4
    skipped = search_l2(x[[0, 4, 8, 12, 13]][:, None, :], y[[0, 4, 8, 12, 13]], 4)
    assert skipped.trials == [] and skipped.folds == 0
    assert "only 1 training photo" in skipped.note and "skipped" in skipped.table()


def test_search_scores_held_out_photos_on_their_original_view_only() -> None:
    x, y = blobs(per_class=10)
    blank = np.stack([x, np.zeros_like(x)], axis=1)  # were the blank view scored, held-out top-1 would be chance
    assert max(t.top1 for t in search_l2(blank, y, 4).trials) > 0.7
