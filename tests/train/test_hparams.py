"""The fine-tuning search space: seeded, within its limits, and varied."""

from __future__ import annotations

import pytest

from edge_app.errors import EdgeAppError
from edge_app.train import hparams
from edge_app.train.hparams import Space, trials


@pytest.mark.parametrize("kind", hparams.KINDS)
def test_the_same_seed_gives_the_same_trials_and_another_seed_others(kind: str) -> None:
    space = Space(blocks=3, augment=2)
    first = trials(kind, 8, space, seed=4)
    assert first == trials(kind, 8, space, seed=4)
    assert first != trials(kind, 8, space, seed=5)
    assert len(first) == 8 and len(set(first)) == 8


def test_random_trials_stay_within_the_space() -> None:
    found = trials("random", 200, Space(blocks=3, augment=2), seed=0)
    assert {t.blocks for t in found} == {1, 2, 3}
    assert {t.augment for t in found} == {0, 1, 2}
    assert {t.batch_size for t in found} == set(hparams.BATCH)
    assert {t.epochs for t in found} == set(hparams.EPOCHS)
    low, high = hparams.LR_RANGE
    assert all(low * 0.99 <= t.lr <= high * 1.01 for t in found)
    low, high = hparams.WEIGHT_DECAY_RANGE
    assert all(low * 0.99 <= t.weight_decay <= high * 1.01 for t in found)
    assert len({t.lr for t in found}) > 150  # continuous, log-uniform


def test_a_grid_sample_is_distinct_points_of_the_grid_and_a_full_grid_is_all_of_them() -> None:
    space = Space(blocks=2, augment=0)
    sample = trials("grid", 10, space, seed=0)
    assert len(set(sample)) == 10
    assert all(t.lr in hparams.LR and t.weight_decay in hparams.WEIGHT_DECAY for t in sample)
    assert len({t.lr for t in sample}) > 1 and len({t.batch_size for t in sample}) > 1
    size = len(hparams.LR) * len(hparams.BATCH) * len(hparams.EPOCHS) * len(hparams.WEIGHT_DECAY) * 2
    everything = trials("grid", 10_000, space, seed=0)
    assert len(everything) == len(set(everything)) == size
    assert set(sample) <= set(everything)


def test_bad_searches_are_one_clear_line() -> None:
    with pytest.raises(EdgeAppError, match="unknown --search 'bayes'"):
        trials("bayes", 8, Space(1, 0), 0)
    with pytest.raises(EdgeAppError, match="at least one trial"):
        trials("random", 0, Space(1, 0), 0)
