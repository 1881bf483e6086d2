"""Training views: deterministic per photo content and seed, so their embeddings can be cached."""

from __future__ import annotations

import numpy as np

from edge_app.train.augment import ORIGINAL, apply, views

IMAGE = np.arange(40 * 60 * 3, dtype=np.uint32).reshape(40, 60, 3).astype(np.uint8)
DIGEST = "ab" * 32


def test_no_augmentation_is_the_original_only() -> None:
    assert views(False) == [ORIGINAL]
    assert apply(ORIGINAL, IMAGE, DIGEST) is IMAGE


def test_flip_mirrors_and_the_original_comes_first() -> None:
    chosen = views(True, seed=7)
    assert chosen[0] == ORIGINAL and len({v.name for v in chosen}) == len(chosen) >= 3
    flip = next(v for v in chosen if v.flip)
    np.testing.assert_array_equal(apply(flip, IMAGE, DIGEST), IMAGE[:, ::-1])


def test_jitter_is_a_seeded_crop_of_the_photo() -> None:
    jitter = next(v for v in views(True, seed=7) if v.jitter)
    first = apply(jitter, IMAGE, DIGEST)
    np.testing.assert_array_equal(first, apply(jitter, IMAGE, DIGEST))
    assert 0.75 * 40 <= first.shape[0] <= 40 and first.shape[0] / first.shape[1] == pytest_approx(40 / 60)
    others = {apply(jitter, IMAGE, f"{i:02x}" * 32).shape for i in range(12)}
    assert len(others) > 1  # another photo, another crop
    assert "s7" in jitter.name  # the seed is part of the cache key


def pytest_approx(value: float) -> object:
    import pytest

    return pytest.approx(value, rel=0.05)
