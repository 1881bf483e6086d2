"""A region's verified state: it changes only after `confirm` results in a row name the same class
with a score of at least `threshold`. A result below the threshold breaks the run and keeps the
state (an unsure classifier never flips it). Pure: labels and scores in, transitions out."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Transition:
    state: str
    previous: str | None
    score: float  # the confirming result's score


class Confirmer:
    def __init__(self, confirm: int, threshold: float, state: str | None = None) -> None:
        if confirm < 1:
            raise ValueError(f"confirm must be at least 1, not {confirm}")
        self.confirm = confirm
        self.threshold = threshold
        self.state = state
        self.candidate: str | None = None  # the label being confirmed
        self.count = 0  # how many results in a row have named it

    @property
    def pending(self) -> bool:
        """A different label is being confirmed (so the region should keep running until it is)."""
        return self.candidate is not None

    def observe(self, label: str, score: float) -> Transition | None:
        if score < self.threshold or label == self.state:
            self.candidate, self.count = None, 0
            return None
        if label != self.candidate:
            self.candidate, self.count = label, 0
        self.count += 1
        if self.count < self.confirm:
            return None
        transition = Transition(label, self.state, score)
        self.state, self.candidate, self.count = label, None, 0
        return transition
