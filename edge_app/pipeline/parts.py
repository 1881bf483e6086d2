"""What a run is made of (Parts) and who wants to hear from it (Hooks): plain data that the
wirings and the steps read, kept apart from core.py so neither imports the other."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from edge_app.frames import Frame, Result
from edge_app.model.classifier import Classifier
from edge_app.overlay import RegionMark
from edge_app.pipeline.model_slot import ModelSlot
from edge_app.pipeline.state import PipelineState
from edge_app.sink import Sink
from edge_app.sources.base import Source


@dataclass(frozen=True)
class Parts:
    """What a run is made of, built before it starts."""

    source: Source
    lanes: Sequence[Classifier]  # one in real time; side-by-side interpreters in batch mode
    sinks: Sequence[Sink]
    state: PipelineState
    model: ModelSlot | None = None  # real time: the swappable classifier (default: lanes[0])


@dataclass(frozen=True)
class Hooks:
    """What others want to hear from a run, from its own threads: keep them quick."""

    on_first_result: Callable[[Result], None] | None = None
    on_classified: Callable[[Frame, Result], None] | None = None  # real time: each frame classified, with its result
    on_frame: Callable[[Frame], None] | None = None  # each captured frame (the camera's regions): return at once
    marks: Callable[[], Sequence[RegionMark]] | None = None  # the regions the overlay draws, as they are now
