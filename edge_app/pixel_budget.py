"""A process-wide budget on pixels being decoded at once.

Each upload's size is checked before it is decoded, but six of them at once still add up to more
than a 2 GB Pi has. Whoever decodes takes its pixels from the budget first; when they do not fit,
it waits a moment for others to finish and is then refused (the web edge answers 503 with
Retry-After), rather than taking memory nobody has.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from edge_app.errors import EdgeAppError

DECODE_MEGAPIXELS = 48  # at once, across the process: ~150 MB of BGR pixels
WAIT_S = 2.0  # how long a decode waits for room before it is refused


class OverBudget(EdgeAppError):
    """The pixels asked for do not fit now; `retry_after` seconds later they likely will."""

    def __init__(self, message: str, hint: str = "", retry_after: int = 2) -> None:
        super().__init__(message, hint)
        self.retry_after = retry_after


class PixelBudget:
    def __init__(self, megapixels: float = DECODE_MEGAPIXELS, wait_s: float = WAIT_S) -> None:
        self.limit = int(megapixels * 1_000_000)
        self.wait_s = wait_s
        self.in_use = 0
        self._room = threading.Condition()

    @contextmanager
    def hold(self, pixels: int) -> Iterator[None]:
        """Hold `pixels` of the budget for the block (at most the whole budget is ever asked)."""
        pixels = min(max(pixels, 0), self.limit)
        with self._room:
            if not self._room.wait_for(lambda: self.in_use + pixels <= self.limit, self.wait_s):
                raise OverBudget(
                    f"{self.in_use / 1e6:.0f} of {self.limit / 1e6:.0f} megapixels are being decoded already",
                    "try again in a moment",
                    max(1, round(self.wait_s)),
                )
            self.in_use += pixels
        try:
            yield
        finally:
            with self._room:
                self.in_use -= pixels
                self._room.notify_all()


DECODING = PixelBudget()  # the one every decoder of untrusted images in this process shares
