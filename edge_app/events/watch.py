"""Watched whole-frame labels (`watch = ["bird"]`): a label starting or ending is an event.

A label is present in a result when it is in the top-k with at least `threshold`; it starts after
`confirm` results in a row have it and ends after `confirm` in a row without it, so one flickering
result makes no event. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Watched:
    kind: str  # "start" or "end"
    label: str
    score: float


@dataclass
class WatchTracker:
    labels: frozenset[str]
    confirm: int = 3
    threshold: float = 0.5
    present: set[str] = field(default_factory=set)
    _runs: dict[str, int] = field(default_factory=dict)  # results in a row disagreeing with `present`
    _best: dict[str, float] = field(default_factory=dict)

    @classmethod
    def of(cls, labels: Iterable[str], confirm: int = 3, threshold: float = 0.5) -> WatchTracker:
        return cls(frozenset(labels), max(1, confirm), threshold)

    def observe(self, top: Sequence[tuple[str, float]]) -> list[Watched]:
        seen = {label: score for label, score in top if label in self.labels and score >= self.threshold}
        changes: list[Watched] = []
        for label in sorted(self.labels):
            if (label in seen) == (label in self.present):
                self._runs[label] = 0
                self._best.pop(label, None)  # the run broke: its best score goes with it
                continue
            self._runs[label] = self._runs.get(label, 0) + 1
            if label in seen:
                self._best[label] = max(self._best.get(label, 0.0), seen[label])
            if self._runs[label] >= self.confirm:
                self._runs[label] = 0
                if label in seen:
                    self.present.add(label)
                    changes.append(Watched("start", label, self._best.pop(label, seen[label])))
                else:
                    self.present.discard(label)
                    self._best.pop(label, None)
                    changes.append(Watched("end", label, 0.0))
        return changes
