"""A one-value mailbox between pipeline stages, where dropping old values is right.

Writers overwrite; each reader waits for a value newer than the one it last took, so a
slow reader skips straight to the newest frame instead of working through a backlog.
"""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

T = TypeVar("T")


class Latest(Generic[T]):
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._value: T | None = None
        self._version = 0
        self._closed = False
        self._readers = 0  # inside get(), waiting

    def put(self, value: T) -> None:
        with self._cond:
            self._value = value
            self._version += 1
            self._cond.notify_all()

    def get(self, after: int, timeout: float | None = None) -> tuple[int, T] | None:
        """The newest (version, value) with version > `after`; None on timeout or once closed and drained."""
        with self._cond:
            self._readers += 1
            try:
                if not self._cond.wait_for(lambda: self._version > after or self._closed, timeout):
                    return None
            finally:
                self._readers -= 1
            if self._version > after and self._value is not None:
                return self._version, self._value
            return None

    def close(self) -> None:
        """Wake every waiter; readers still receive the last value if they have not taken it."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def waiting(self) -> int:
        """Readers blocked in get() right now. Exact: a reader is counted under the lock, which it
        gives up only inside its wait, so a put() after this sees every counted one waiting."""
        with self._cond:
            return self._readers
