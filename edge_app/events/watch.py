"""Watched whole-frame labels (`watch = ["bird"]`): a label starting or ending is an event.

A label is present in a result when it is in the top-k with at least `threshold`; it starts after
`confirm` results in a row have it and ends after `confirm` in a row without it, so one flickering
result makes no event. A watched name matches a model's label, or any of its comma-separated
synonyms ("hot dog" matches ImageNet's "hotdog, hot dog, red hot"), in any case. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Watched:
    kind: str  # "start" or "end"
    label: str
    score: float


def synonyms(label: str) -> set[str]:
    return {label.casefold().strip(), *(name.casefold().strip() for name in label.split(","))}


@dataclass
class WatchTracker:
    labels: frozenset[str]
    confirm: int = 3
    threshold: float = 0.5
    present: set[str] = field(default_factory=set)
    _runs: dict[str, int] = field(default_factory=dict)  # results in a row disagreeing with `present`
    _best: dict[str, float] = field(default_factory=dict)

    def names_of(self, label: str) -> list[str]:
        """The watched names `label` is (usually none)."""
        names = synonyms(label)
        return [watched for watched in self.labels if watched.casefold() in names]

    @classmethod
    def of(cls, labels: Iterable[str], confirm: int = 3, threshold: float = 0.5) -> WatchTracker:
        return cls(frozenset(labels), max(1, confirm), threshold)

    def observe(self, top: Sequence[tuple[str, float]]) -> list[Watched]:
        seen: dict[str, float] = {}
        for label, score in top:
            for name in self.names_of(label):
                if score >= self.threshold and score > seen.get(name, -1.0):
                    seen[name] = score
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
