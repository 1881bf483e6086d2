"""One thread's selector loop that other threads hand sockets to: the shape the acceptor and the
stream writer share. Items handed over wait in a list the loop takes at its next turn; close()
from any thread makes run() return, and what is left is closed exactly once by whichever thread
gets there (the loop, or close() itself when the loop never ran)."""

from __future__ import annotations

import selectors
import threading
from typing import Generic, TypeVar

from edge_app.web.waker import Waker

T = TypeVar("T")


class SelectorLoop(Generic[T]):
    def __init__(self) -> None:
        self._selector = selectors.DefaultSelector()
        self._waker = Waker()
        self._lock = threading.Lock()  # guards _handed and the flags, which other threads touch
        self._handed: list[T] = []
        self._closed = False
        self._running = False
        self._finished = False

    # -- other threads

    def hand_over(self, item: T) -> bool:
        """Give `item` to the loop; False once it is closed (the caller disposes of the item)."""
        with self._lock:
            taken = not self._closed
            if taken:
                self._handed.append(item)
        self.wake()
        return taken

    def wake(self) -> None:
        self._waker.wake()

    def close(self) -> None:
        """Stop: run() returns and closes everything (at once, if it never ran)."""
        with self._lock:
            self._closed = True
            running = self._running
        self.wake()
        if not running:
            self._finish()

    # -- the loop's thread

    def run(self, stop: threading.Event) -> None:
        with self._lock:
            if self._closed:
                return
            self._running = True
        self._selector.register(self._waker.reader, selectors.EVENT_READ, self._waker)
        self._begin()
        try:
            while not stop.is_set():
                with self._lock:
                    if self._closed:
                        break
                    handed, self._handed = self._handed, []
                for item in handed:
                    self._take(item)
                for key, mask in self._selector.select(self._timeout()):
                    if key.data is self._waker:
                        self._waker.drain()
                    else:
                        self._ready(key, mask)
                self._after_turn()
        finally:
            with self._lock:
                self._closed = True
            self._finish()

    def _finish(self) -> None:
        with self._lock:
            if self._finished:
                return
            self._finished = True
            handed, self._handed = self._handed, []
        self._close_all(handed)
        self._selector.close()
        self._waker.close()

    # -- what each loop does

    def _begin(self) -> None:
        """Register the loop's own sockets (the waker is registered already)."""

    def _take(self, item: T) -> None:
        raise NotImplementedError

    def _timeout(self) -> float:
        raise NotImplementedError

    def _ready(self, key: selectors.SelectorKey, mask: int) -> None:
        raise NotImplementedError

    def _after_turn(self) -> None:
        """Deadlines and the like, after each select."""

    def _close_all(self, handed: list[T]) -> None:
        """Close everything the loop holds, and `handed` (given but never taken)."""
        raise NotImplementedError
