"""Moving average of score vectors, so labels do not flicker between near-equal classes."""

from __future__ import annotations

from collections import deque

import numpy as np


class ScoreSmoother:
    def __init__(self, window: int) -> None:
        if window < 1:
            raise ValueError("window must be >= 1")
        self.window = window
        self._history: deque[np.ndarray] = deque()
        self._sum: np.ndarray | None = None

    def reset(self) -> None:
        """Forget the history (the model changed: its scores mean other classes)."""
        self._history.clear()
        self._sum = None

    def update(self, scores: np.ndarray) -> np.ndarray:
        """The mean of the last `window` score vectors, this one included."""
        if self.window == 1:
            return scores
        scores = scores.astype(np.float64)
        if self._sum is None or self._sum.shape != scores.shape:
            self._history.clear()
            self._sum = np.zeros_like(scores)
        self._history.append(scores)
        self._sum += scores
        if len(self._history) > self.window:
            self._sum -= self._history.popleft()
        return (self._sum / len(self._history)).astype(np.float32)
