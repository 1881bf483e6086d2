"""The Source interface: anything that produces images.

A source only produces pixels. The pipeline's capture stage numbers and timestamps them,
paces files, and reopens a failed source with backoff, so a new source is one small file.
"""

from __future__ import annotations

from typing import Protocol, TypeVar, runtime_checkable

import numpy as np

from edge_app.errors import EdgeAppError
from edge_app.frames import ChannelOrder


class SourceError(EdgeAppError):
    """A fault the capture stage may recover from by reopening (unplugged camera, dropped stream)."""


@runtime_checkable
class Source(Protocol):
    name: str  # for logs and the status page, e.g. "picamera2:0", "video:clip.mp4"
    order: ChannelOrder  # channel order of the arrays read() returns
    live: bool  # cameras and streams: never paced, never end. Files: paced in real time, end at EOF.

    @property
    def fps(self) -> float | None:
        """The native frame rate when known (files, configured cameras)."""
        ...

    def open(self) -> None:
        """Acquire the device or stream. Raises SourceError (retryable) or EdgeAppError (fatal)."""
        ...

    def read(self) -> np.ndarray | None:
        """The next image (HxWx3 uint8), or None at the end of a finite source.

        Raises SourceError on a fault. A live source must return or raise within its own
        timeout, so a dead camera or stream cannot hang the capture thread forever.
        """
        ...

    def close(self) -> None:
        """Release the device; safe to call twice or after a failed open."""
        ...


_S = TypeVar("_S", bound="SourceBase")


class SourceBase:
    """Plumbing shared by the sources in this package (optional for others).

    `open()` must clean up after itself when it fails: the capture stage only calls
    `close()` on a source whose `open()` returned.
    """

    name: str = "source"
    order: ChannelOrder = "bgr"
    live: bool = False
    _fps: float | None = None
    # Optional for any source: a number for the picture read() last returned, the same while a
    # source repeats one picture (a slideshow holding a photo); None for moving video.
    still: int | None = None

    @property
    def fps(self) -> float | None:
        return self._fps

    def open(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self: _S) -> _S:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"
