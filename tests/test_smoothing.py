"""ScoreSmoother: the moving average of score vectors that keeps labels from flickering."""

from __future__ import annotations

import numpy as np
import pytest

from edge_app.smoothing import ScoreSmoother


@pytest.mark.parametrize("window", [0, -1])
def test_a_window_below_one_is_refused(window: int) -> None:
    with pytest.raises(ValueError, match="window must be >= 1"):
        ScoreSmoother(window)


def test_a_window_of_one_passes_scores_through_untouched() -> None:
    smoother = ScoreSmoother(1)
    scores = np.array([0.1, 0.9], np.float32)
    assert smoother.update(scores) is scores


def test_the_mean_of_the_last_window_vectors_including_this_one() -> None:
    rng = np.random.default_rng(7)
    vectors = rng.random((12, 5)).astype(np.float32)
    smoother = ScoreSmoother(4)
    for i, vector in enumerate(vectors):
        expected = vectors[max(0, i - 3) : i + 1].mean(axis=0)  # fewer than 4 at the start: the mean of those
        np.testing.assert_allclose(smoother.update(vector), expected, rtol=1e-6)


def test_a_near_tie_stops_flickering() -> None:
    a, b = np.array([0.60, 0.40], np.float32), np.array([0.45, 0.55], np.float32)  # b's lead is the smaller one
    raw = [a, b] * 5 + [a]
    smoother = ScoreSmoother(4)
    tops = [int(np.argmax(smoother.update(s))) for s in raw]
    assert [int(np.argmax(s)) for s in raw[4:]] == [0, 1, 0, 1, 0, 1, 0]  # the raw top flips every frame
    assert tops[3:] == [0] * 8  # the smoothed one settles on the class that leads on average


def test_quantized_scores_are_averaged_without_overflow_and_come_out_float32() -> None:
    smoother = ScoreSmoother(3)
    smoother.update(np.array([250, 0], np.uint8))
    out = smoother.update(np.array([250, 6], np.uint8))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [250.0, 3.0])  # uint8 arithmetic would have wrapped 500 to 244


def test_the_input_is_not_modified() -> None:
    smoother = ScoreSmoother(2)
    first, second = np.array([1.0, 0.0], np.float32), np.array([0.0, 1.0], np.float32)
    smoother.update(first)
    smoother.update(second)
    smoother.update(second)
    assert first.tolist() == [1.0, 0.0] and second.tolist() == [0.0, 1.0]


def test_a_model_with_another_output_size_starts_a_fresh_average() -> None:
    smoother = ScoreSmoother(3)
    for _ in range(3):
        smoother.update(np.array([1.0, 0.0, 0.0], np.float32))
    fresh = np.array([0.0, 0.0, 0.0, 1.0], np.float32)  # a reload switched to a model with 4 outputs
    np.testing.assert_array_equal(smoother.update(fresh), fresh)
    np.testing.assert_allclose(smoother.update(np.zeros(4, np.float32)), [0, 0, 0, 0.5])  # only the new model's results


def test_a_long_run_does_not_drift_from_the_true_mean() -> None:
    rng = np.random.default_rng(1)
    vectors = rng.random((20_000, 3)).astype(np.float32)
    smoother = ScoreSmoother(30)
    for vector in vectors:
        out = smoother.update(vector)
    np.testing.assert_allclose(
        out, vectors[-30:].astype(np.float64).mean(axis=0), rtol=1e-5
    )  # a running sum, not re-summed
