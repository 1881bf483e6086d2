"""A tiny progress bar for terminals; silent when stderr is not a TTY (logs, CI, systemd)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, total: int | None, label: str, stream: TextIO | None = None, unit: str = "") -> None:
        self.total = total
        self.label = label
        self.unit = unit
        self.done = 0
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self._last = 0.0

    def advance(self, amount: int = 1) -> None:
        self.done += amount
        now = time.monotonic()
        if self.enabled and (now - self._last > 0.1 or self.done == self.total):
            self._last = now
            self._draw()

    def update_to(self, done: int, total: int | None = None) -> None:
        """Set the absolute position (and the total, once it is known)."""
        if total is not None:
            self.total = total
        self.advance(done - self.done)

    def _draw(self) -> None:
        if self.total:
            fraction = min(1.0, self.done / self.total)
            bar = "#" * int(fraction * 30)
            text = f"\r{self.label} [{bar:<30}] {fraction:4.0%} {self._fmt(self.done)}/{self._fmt(self.total)}"
        else:
            text = f"\r{self.label} {self._fmt(self.done)}"
        self.stream.write(text)
        self.stream.flush()

    def _fmt(self, n: int) -> str:
        if self.unit == "B":
            return f"{n / 1e6:.1f} MB"
        return f"{n}{self.unit}"

    def close(self) -> None:
        """End the bar's line; nothing when nothing was drawn (e.g. a download that never began)."""
        if self.enabled and self._last:
            self._draw()
            self.stream.write("\n")
            self.stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
