"""Training-only augmentation: each photo is also seen mirrored and with a jittered crop.

A view is applied to the decoded photo *before* the live path's preprocessing (central 87.5 %
crop, bilinear resize), so the backbone sees what it would see of a slightly different shot.
A view's randomness is drawn from the photo's content digest and the seed, so the same photo
always gives the same view: that is what lets its embedding be cached.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

VERSION = 1  # bump when a view's pixels change, so cached embeddings of the old views are not reused
JITTER_SIDE = (0.8, 1.0)  # a jittered crop keeps this share of each side


@dataclass(frozen=True)
class View:
    name: str  # part of the cache key
    flip: bool = False
    jitter: int = 0  # 0: the whole photo; n > 0: the n-th seeded random crop (randomly mirrored too)
    seed: int = 0


ORIGINAL = View("orig")


def views(augment: bool, seed: int = 0) -> list[View]:
    """The original first (validation and the search's held-out folds use only it), then the augmented views."""
    if not augment:
        return [ORIGINAL]
    return [ORIGINAL, View("flip", flip=True), View(f"jitter1-s{seed}-v{VERSION}", jitter=1, seed=seed)]


def _rng(view: View, digest: str) -> np.random.Generator:
    return np.random.default_rng([int(digest[:16], 16), view.seed, view.jitter])


def apply(view: View, image: np.ndarray, digest: str) -> np.ndarray:
    """The view of an HxWxC photo (a view into it where possible: crops and flips copy nothing)."""
    flip = view.flip
    if view.jitter:
        rng = _rng(view, digest)
        h, w = image.shape[:2]
        side = rng.uniform(*JITTER_SIDE)
        ch, cw = max(1, int(round(h * side))), max(1, int(round(w * side)))
        y, x = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
        image = image[y : y + ch, x : x + cw]
        flip = bool(rng.integers(0, 2))
    return image[:, ::-1] if flip else image
