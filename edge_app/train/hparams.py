"""The fine-tuning hyperparameter search space, and the trials a grid or random search runs.

Pure and seeded: the same seed, kind, count and limits give the same trials in the same order.

- grid: the Cartesian product of a few values per setting; with fewer trials than points, a
  seeded sample of distinct points (every setting still takes several values);
- random: learning rate and weight decay log-uniform, the others uniform over their values.

The blocks searched are 1..N for --fine-tune N (the head alone is always trained and compared),
augmentation strengths those the cached views allow.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from edge_app.errors import EdgeAppError
from edge_app.train.finetune import TrialParams

KINDS = ("grid", "random")
LR = (3e-4, 1e-3, 3e-3)
LR_RANGE = (1e-4, 5e-3)
BATCH = (32, 64, 128)  # smaller batches cost as much per step on a CPU, for less
EPOCHS = (6, 12, 20)  # at most: early stopping (patience) usually ends sooner
WEIGHT_DECAY = (1e-4, 1e-3, 1e-2)
WEIGHT_DECAY_RANGE = (1e-5, 3e-2)


@dataclass(frozen=True)
class Space:
    blocks: int  # --fine-tune N: blocks 1..N
    augment: int  # augmented views available: strengths 0..augment


def _log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


def _pick(rng: np.random.Generator, values: tuple[int, ...] | range) -> int:
    return int(values[int(rng.integers(len(values)))])


def trials(kind: str, count: int, space: Space, seed: int) -> list[TrialParams]:
    if kind not in KINDS:
        raise EdgeAppError(f"unknown --search {kind!r}", "use --search grid or --search random")
    if count < 1:
        raise EdgeAppError(f"--trials {count}: a search needs at least one trial", "e.g. --trials 8")
    rng = np.random.default_rng([seed, KINDS.index(kind)])
    blocks = range(1, space.blocks + 1)
    augment = range(space.augment + 1)
    if kind == "random":
        return [
            TrialParams(
                lr=round(_log_uniform(rng, *LR_RANGE), 6),
                batch_size=_pick(rng, BATCH),
                epochs=_pick(rng, EPOCHS),
                weight_decay=round(_log_uniform(rng, *WEIGHT_DECAY_RANGE), 7),
                blocks=_pick(rng, blocks),
                augment=_pick(rng, augment),
            )
            for _ in range(count)
        ]
    grid = list(itertools.product(LR, BATCH, EPOCHS, WEIGHT_DECAY, blocks, augment))
    chosen = sorted(rng.permutation(len(grid))[:count]) if count < len(grid) else range(len(grid))
    return [TrialParams(*grid[i]) for i in chosen]
