"""Seeded, stratified validation split and cross-validation folds."""

from __future__ import annotations

import numpy as np
import pytest

from edge_app.train.split import stratified_folds, stratified_split, val_count

LABELS = np.repeat(np.arange(4), [30, 10, 5, 2])


def test_split_keeps_each_class_share_and_is_seeded() -> None:
    split = stratified_split(LABELS, 0.2, seed=3)
    assert np.intersect1d(split.train, split.val).size == 0
    assert sorted(np.concatenate([split.train, split.val]).tolist()) == list(range(len(LABELS)))
    assert np.bincount(LABELS[split.val]).tolist() == [6, 2, 1, 1]
    again = stratified_split(LABELS, 0.2, seed=3)
    assert split.val.tolist() == again.val.tolist()
    assert stratified_split(LABELS, 0.2, seed=4).val.tolist() != split.val.tolist()


def test_a_class_split_does_not_depend_on_the_others() -> None:
    alone = stratified_split(LABELS[:30], 0.2, seed=1)
    together = stratified_split(LABELS, 0.2, seed=1)
    assert alone.val.tolist() == [i for i in together.val.tolist() if i < 30]


def test_val_count_leaves_one_on_each_side() -> None:
    assert [val_count(n, 0.2) for n in (2, 5, 10, 60)] == [1, 1, 2, 12]
    assert val_count(3, 0.9) == 2


def test_one_photo_cannot_be_split() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        stratified_split(np.array([0, 0, 1]), 0.2)


def test_folds_are_stratified_and_balanced() -> None:
    folds = stratified_folds(LABELS[:45], 5, seed=0)
    for label in range(3):
        counts = np.bincount(folds[LABELS[:45] == label], minlength=5)
        assert counts.max() - counts.min() <= 1
    sizes = np.bincount(folds, minlength=5)
    assert sizes.max() - sizes.min() <= 1
    assert folds.tolist() == stratified_folds(LABELS[:45], 5, seed=0).tolist()
