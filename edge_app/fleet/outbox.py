"""A bounded outbox between the pipeline and the MQTT client: putting never blocks, and when it
is full the oldest message goes (a newer state supersedes it), counted as a drop."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Outbox(Generic[T]):
    def __init__(self, size: int = 100) -> None:
        self._items: deque[T] = deque()
        self.size = size
        self.dropped = 0
        self._woken = False
        self._changed = threading.Condition()

    def put(self, item: T) -> None:
        with self._changed:
            if len(self._items) >= self.size:
                self._items.popleft()
                self.dropped += 1
            self._items.append(item)
            self._changed.notify_all()

    def take(self, ready: Callable[[], bool], timeout: float) -> T | None:
        """The oldest item once `ready()` (e.g. connected), else None after `timeout` or a wake()."""
        with self._changed:
            if not (self._items and ready()) and not self._woken:
                self._changed.wait(timeout)
            self._woken = False
            if self._items and ready():
                return self._items.popleft()
            return None

    def wake(self) -> None:
        """Something else changed (connected, stopping, a request to announce): let take() return."""
        with self._changed:
            self._woken = True
            self._changed.notify_all()

    def __len__(self) -> int:
        with self._changed:
            return len(self._items)
