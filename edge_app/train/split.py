"""Seeded, stratified splits of photos: the validation split and the cross-validation folds.

Pure numpy. Photos, not augmented views, are what gets split: a photo's views always land on the
same side, so no flipped copy of a validation photo is ever trained on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Split:
    train: np.ndarray  # photo indices, ascending
    val: np.ndarray


def val_count(photos: int, fraction: float) -> int:
    """Validation photos taken from a class of `photos`: at least 1, and at least 1 left to train on."""
    return int(max(1, min(photos - 1, round(fraction * photos))))


def _class_rng(seed: int, label: int) -> np.random.Generator:
    """One stream per class, so a class's split does not depend on the other classes."""
    return np.random.default_rng([seed, label])


def stratified_split(labels: np.ndarray, fraction: float, seed: int = 0) -> Split:
    """Each class keeps its share of validation photos; every class needs at least 2 photos."""
    labels = np.asarray(labels)
    val: list[int] = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        if len(members) < 2:
            raise ValueError(f"class {label} has {len(members)} photo(s); a split needs at least 2")
        val.extend(_class_rng(seed, int(label)).permutation(members)[: val_count(len(members), fraction)].tolist())
    held = np.zeros(len(labels), bool)
    held[val] = True
    return Split(np.flatnonzero(~held), np.flatnonzero(held))


def stratified_folds(labels: np.ndarray, folds: int, seed: int = 0) -> np.ndarray:
    """A fold number (0..folds-1) per photo; each class is dealt round the folds in a seeded
    order, starting where the previous class stopped, so fold sizes stay within one of each other."""
    labels = np.asarray(labels)
    fold = np.empty(len(labels), np.int64)
    start = 0
    for label in np.unique(labels):
        members = _class_rng(seed + 1, int(label)).permutation(np.flatnonzero(labels == label))
        fold[members] = (start + np.arange(len(members))) % folds
        start = (start + len(members)) % folds
    return fold
