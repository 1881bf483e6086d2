"""The median stopping rule of a search: a trial whose best validation loss after some epochs is
worse than the median of the earlier trials' bests after as many epochs stops there.

A search's losers cost most of its time (on 480 photos, a trial of two blocks that validation
already ranks below the one-block trials ran 5 epochs for nothing); this rule (Golovin et al.,
"Google Vizier", 2017) ends them without judging a trial on its warm-up alone (`GRACE`). Pure
and deterministic: the same losses give the same stops, so the same seed gives the same choice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import median

GRACE = 2  # epochs every trial runs before it can be stopped: the first one is the learning-rate warm-up
QUORUM = 2  # earlier trials needed before their median means anything


def running_best(losses: Sequence[float]) -> list[float]:
    """The lowest loss up to each epoch."""
    found: list[float] = []
    for loss in losses:
        found.append(min(loss, found[-1]) if found else loss)
    return found


@dataclass
class MedianStop:
    """Collects the trials' validation losses per epoch; `stops` judges the running trial."""

    grace: int = GRACE
    quorum: int = QUORUM
    _done: list[list[float]] = field(default_factory=list)  # running bests of the finished trials

    def finished(self, losses: Sequence[float]) -> None:
        self._done.append(running_best(losses))

    def stops(self, losses: Sequence[float]) -> bool:
        """Whether a trial whose validation losses so far are `losses` should stop now. A trial
        that ended sooner keeps its last best, so early stopping does not flatter the median."""
        epochs = len(losses)
        if epochs < self.grace or len(self._done) < self.quorum:
            return False
        bests = [done[min(epochs, len(done)) - 1] for done in self._done]
        return min(losses) > median(bests)
