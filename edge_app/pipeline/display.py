"""The picture sinks receive: a frame with the newest result drawn on it, or "no signal"."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

from edge_app import overlay
from edge_app.frames import Frame, Result
from edge_app.pipeline.state import PipelineState
from edge_app.sink import Sink
from edge_app.sources.spec import DEFAULT_RESOLUTION


class Annotator:
    def __init__(
        self, state: PipelineState, draw: bool, regions: Callable[[], Sequence[overlay.RegionMark]] | None = None
    ) -> None:
        self.state = state
        self.draw = draw
        self.regions = regions  # the boxes to draw with their names, states and scores (a board's marks)
        self.size = DEFAULT_RESOLUTION  # of the last frame, for the no-signal card

    def render(self, frame: Frame, result: Result | None, now: float) -> np.ndarray:
        """A BGR image for sinks. The source frame itself is never drawn on: inference may be reading it."""
        h, w = frame.image.shape[:2]
        self.size = (w, h)
        image = frame.bgr
        if not self.draw:
            return image
        if image is frame.image:
            image = image.copy()
        info = overlay.OverlayInfo(
            video_fps=self.state.video_rate.rate(now),
            inference_fps=self.state.inference_rate.rate(now),
            inference_ms=result.inference_ms if result else None,
            age_ms=result.age_s(frame, now) * 1000.0 if result else None,
        )
        if self.regions is not None:
            overlay.draw_regions(image, self.regions())
        return overlay.draw(image, result.top if result else (), info)

    def no_signal(self) -> np.ndarray:
        health = self.state.health.snapshot()
        retry = f", retrying in {health['retry_in_s']:.0f} s" if health.get("retry_in_s") else ""
        detail = f"{health['name']}: {health['reason'] or 'waiting for frames'}{retry}"
        return overlay.no_signal(*self.size, detail)


class Display:
    """Pictures out: each shown frame is counted in the state, and drawn only when a sink wants pictures."""

    def __init__(self, state: PipelineState, sinks: Sequence[Sink], annotator: Annotator) -> None:
        self._state = state
        self._sinks = [sink for sink in sinks if sink.wants_frames]
        self._annotator = annotator

    def show(self, frame: Frame, result: Result | None) -> None:
        now = time.monotonic()
        if self._sinks:
            image = self._annotator.render(frame, result, now)
            for sink in self._sinks:
                sink.frame(image, frame, result)
        self._state.shown(frame, result, now)

    def no_signal(self) -> None:
        """No frame for a while: tell viewers the app is alive and what it waits for."""
        if self._sinks:
            card = self._annotator.no_signal()
            for sink in self._sinks:
                sink.frame(card, Frame(card, -1), None)
