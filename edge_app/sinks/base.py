"""The Sink interface: an output of `edge-app run` (live view, window, events, recording, ...).

A sink gets every result in order and, if it `wants_frames`, every displayed frame with the
newest result drawn on it. Sinks are chosen by settings in registry.py.

Calls come from the pipeline's display thread and must return quickly. A sink that does
slow work (encoding, disk) does it on its own thread behind a bounded queue, and drops
frames when live rather than stall the pipeline; in batch mode (`lossless=True`) it
may block instead, because then every frame must be written.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import numpy as np

from edge_app.frames import Frame, Result


class Sink:
    wants_frames = True  # False: the pipeline need not draw annotated frames for this sink

    def start(self, stop: threading.Event, lossless: bool = False) -> None:
        """Begin; `stop` is the pipeline's single stop event."""

    def frame(self, image: np.ndarray, frame: Frame, result: Result | None) -> None:
        """An annotated BGR image of `frame`, drawn with the newest `result` (None before the first)."""

    def result(self, result: Result) -> None:
        """A new inference result (for every classified frame, in order)."""

    def close(self, timeout: float = 2.0) -> None:
        """Flush and release; return within about `timeout` seconds."""

    def stats(self) -> Mapping[str, Any]:
        """This output's own counts, read by metrics without knowing its type (e.g. "viewers")."""
        return {}
