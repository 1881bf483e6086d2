"""What a wiring (live.py, batch.py) is given: one part per job, and nothing else of the pipeline.

A wiring decides which threads exist and how frames flow between them; these parts decide what
happens to a frame: the supervisor runs and ends the threads, `frames` counts what comes in,
inference classifies (and says when failures are fatal), the publisher sends results out and the
display sends pictures out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from edge_app.frames import Frame
from edge_app.heartbeat import Heartbeat
from edge_app.model.classifier import Classifier
from edge_app.pipeline.capture import Capture
from edge_app.pipeline.display import Annotator, Display
from edge_app.pipeline.inference import Inference
from edge_app.pipeline.model_slot import ModelSlot
from edge_app.pipeline.options import PipelineOptions
from edge_app.pipeline.parts import Hooks, Parts
from edge_app.pipeline.publisher import Publisher
from edge_app.pipeline.supervisor import Supervisor
from edge_app.stats import Counters


@dataclass(frozen=True)
class Steps:
    supervisor: Supervisor
    frames: Callable[[], Iterator[Frame]]  # the captured frames, counted and shown to the on_frame hook
    counters: Counters  # the run's counts (frames dropped, ...)
    infer: Inference
    publisher: Publisher
    display: Display
    model: ModelSlot  # what live inference runs, swappable
    lanes: Sequence[Classifier]  # batch: the interpreters side by side
    options: PipelineOptions


def counted(capture: Capture, counters: Counters, on_frame: Callable[[Frame], None] | None) -> Iterator[Frame]:
    for frame in capture.frames():
        counters.add("captured")
        if on_frame is not None:
            on_frame(frame)
        yield frame


def build_steps(
    capture: Capture, heartbeats: dict[str, Heartbeat], parts: Parts, options: PipelineOptions, hooks: Hooks
) -> Steps:
    state, lanes = parts.state, list(parts.lanes)
    model = parts.model or ModelSlot(lanes[0])
    supervisor = Supervisor(capture.stop, heartbeats)
    return Steps(
        supervisor=supervisor,
        frames=lambda: counted(capture, state.counters, hooks.on_frame),
        counters=state.counters,
        infer=Inference(state.counters, options.error_window_s, supervisor.fail),
        publisher=Publisher(state, parts.sinks, model, options.smooth, hooks),
        display=Display(state, parts.sinks, Annotator(state, options.overlay, hooks.marks)),
        model=model,
        lanes=lanes,
        options=options,
    )
