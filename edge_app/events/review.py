"""Which results are worth a human look, per region (pure: results in, reasons out).

Kept: the first result after start; any scoring below `review_below`; any made while a change
waits for confirmation; any whose label differs from the verified state. Before anything is
taught for a region, also a varied sample of what it sees, so its first examples come from its own
camera: at most one sample every `sample_every_s`, a bounded share per hour of the day (so one busy
hour cannot fill the queue), and only pictures unlike those already kept (a 16x16 grey
thumbnail's mean difference). Everything is rate-limited per region (`every_s`); the queue itself
keeps `keep` frames per region, dropping the oldest.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

import cv2
import numpy as np

SIGNATURE = 16  # pixels a side of the grey thumbnail samples are compared by


@dataclass(frozen=True)
class ReviewOptions:
    below: float = 0.9
    every_s: float = 2.0  # per region, at most one frame this often (the first result always)
    keep: int = 100  # per region, oldest out
    sample_every_s: float = 300.0
    sample_distance: float = 12.0  # mean absolute difference, 0..255, from every kept sample
    samples_per_hour: int = 3  # of each hour of the day, kept in the sample


def signature(image: np.ndarray) -> np.ndarray:
    """A small grey picture of `image`, its brightness levelled, for telling scenes apart."""
    grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    small = cv2.resize(grey, (SIGNATURE, SIGNATURE), interpolation=cv2.INTER_AREA).astype(np.float32)
    return small - small.mean() + 128.0


def distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(np.abs(a - b)))


def reason(label: str, score: float, state: str | None, pending: bool, first: bool, below: float) -> str | None:
    """Why this result deserves a look, or None."""
    if first:
        return "first"
    if pending:
        return "pending"
    if state is not None and label != state:
        return "differs"
    if score < below:
        return "low score"
    return None


@dataclass
class Sampler:
    """The varied sample of one region, before it is taught."""

    options: ReviewOptions
    kept: deque[tuple[float, int, np.ndarray]] = field(default_factory=deque)  # (time, hour, signature)
    last: float | None = None

    def admits(self, now: float, wall: float, image: np.ndarray) -> bool:
        if self.last is not None and now - self.last < self.options.sample_every_s:
            return False
        hour = time.localtime(wall).tm_hour
        if sum(1 for _, h, _ in self.kept if h == hour) >= self.options.samples_per_hour:
            return False
        mark = signature(image)
        if any(distance(mark, other) < self.options.sample_distance for _, _, other in self.kept):
            return False
        self.note(now, wall, mark)
        return True

    def note(self, now: float, wall: float, mark: np.ndarray) -> None:
        """A frame kept (for any reason): later samples must differ from it, and wait their turn."""
        self.last = now
        self.kept.append((now, time.localtime(wall).tm_hour, mark))
        while len(self.kept) > self.options.keep:
            self.kept.popleft()


@dataclass
class _Region:
    sampler: Sampler
    started: bool = False
    last: float | None = None


class ReviewPicker:
    """Remembers, per (camera, region), what it has kept and when."""

    def __init__(self, options: ReviewOptions = ReviewOptions()) -> None:
        self.options = options
        self._regions: dict[tuple[str, str], _Region] = {}

    def pick(
        self,
        key: tuple[str, str],
        result: tuple[str, float],
        state: tuple[str | None, bool],
        when: tuple[float, float],
        image: np.ndarray,
        taught: bool,
        below: float | None = None,
    ) -> str | None:
        """`result` is (label, score); `state` (verified state, pending); `when` (monotonic, wall)
        seconds; `image` the crop. The reason to keep it, or None."""
        region = self._regions.setdefault(key, _Region(Sampler(self.options)))
        now, wall = when
        first = not region.started
        region.started = True
        why = reason(*result, *state, first, self.options.below if below is None else below)
        if not first and region.last is not None and now - region.last < self.options.every_s:
            return None
        if why is None:
            if not taught and region.sampler.admits(now, wall, image):
                why = "sample"
        elif not taught:
            region.sampler.note(now, wall, signature(image))
        if why is not None:
            region.last = now
        return why
