"""The one bounded queue between a producer that must never wait (the video) and one consumer
thread (an output, the clip encoder, the recorder).

In real time a full mailbox drops its oldest item and counts the drop, so a slow consumer can
never stall the pipeline; that rule lives here and only here. In batch mode (`lossless`) a put
waits for room instead, because then every item counts, unless the mailbox was closed (the
consumer ended or died), so a dead consumer cannot hang the producer either.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")
WAIT_S = 0.5  # a lossless put re-checks this often whether the mailbox was closed meanwhile


class Mailbox(Generic[T]):
    def __init__(self, maxsize: int, lossless: bool = False) -> None:
        if maxsize < 1:
            raise ValueError(f"a mailbox holds at least 1 item, not {maxsize}")
        self.maxsize = maxsize
        self.lossless = lossless
        self.dropped = 0
        self._items: deque[T] = deque()
        self._ready = threading.Condition()
        self._closed = False

    def put(self, item: T) -> bool:
        """Hand `item` over; False when the mailbox is closed (nothing is taken any more)."""
        with self._ready:
            while self.lossless and len(self._items) >= self.maxsize and not self._closed:
                self._ready.wait(WAIT_S)
            if self._closed:
                return False
            if len(self._items) >= self.maxsize:
                self._items.popleft()
                self.dropped += 1
            self._items.append(item)
            self._ready.notify_all()
            return True

    def get(self) -> T | None:
        """The oldest item, waiting for one; None once closed and everything handed over was taken."""
        with self._ready:
            while not self._items and not self._closed:
                self._ready.wait()
            if not self._items:
                return None
            item = self._items.popleft()
            self._ready.notify_all()  # a lossless put waiting for room
            return item

    def close(self, discard: bool = False) -> None:
        """No more puts; the consumer still takes what is queued, unless `discard` drops it (counted)."""
        with self._ready:
            self._closed = True
            if discard:
                self.dropped += len(self._items)
                self._items.clear()
            self._ready.notify_all()

    def __len__(self) -> int:
        with self._ready:
            return len(self._items)
