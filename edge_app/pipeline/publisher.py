"""Results out, in the order they are made: smoothed over the last frames, recorded in the run's
state, handed to every sink, and told to whoever waits on them (a model swap waiting for its first
result, the first result of the run, teaching keeping the newest frame and its result)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace

from edge_app.frames import Frame, Result
from edge_app.model.classifier import Classifier
from edge_app.pipeline.model_slot import ModelSlot
from edge_app.pipeline.parts import Hooks
from edge_app.pipeline.state import PipelineState
from edge_app.sink import Sink
from edge_app.smoothing import ScoreSmoother


class Publisher:
    def __init__(
        self, state: PipelineState, sinks: Sequence[Sink], model: ModelSlot, smooth: int, hooks: Hooks
    ) -> None:
        self._state = state
        self._sinks = list(sinks)
        self._model = model
        self._hooks = hooks
        self._smooth = smooth
        self._smoother = ScoreSmoother(smooth)
        self._swapped = threading.Event()  # set by a model swap: the smoother's history means other classes
        model.on_swap(lambda _: self._swapped.set())

    def publish(self, result: Result, ranker: Classifier | None = None) -> Result:
        """Smooth (in frame order), record, and hand the result to every sink. `ranker`: the
        classifier that made it (live: the model may have been swapped; batch: any lane)."""
        ranker = ranker or self._model.current
        if self._smooth > 1 and result.scores is not None:
            if self._swapped.is_set():
                self._swapped.clear()
                self._smoother.reset()
            result = replace(result, top=ranker.rank(self._smoother.update(result.scores)))
        first = not self._state.first_result.is_set()
        self._state.publish(result)
        for sink in self._sinks:
            sink.result(result)
        self._model.published(ranker)
        if first and self._hooks.on_first_result:
            self._hooks.on_first_result(result)
        return result

    def classified(self, frame: Frame, result: Result) -> None:
        """Live: `frame` was classified as `result` (teaching keeps the newest pair)."""
        if self._hooks.on_classified:
            self._hooks.on_classified(frame, result)

    def newest(self) -> Result | None:
        return self._state.result
