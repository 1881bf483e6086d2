"""The region runtime of one camera: the one place that decides, per frame, which regions run and
with which model, and what their results mean.

    frame -> gate (every frame / every N s / motion in the box / a change pending)
          -> crop -> the shared worker (the region's model) -> threshold -> confirmation
          -> bus: Classified for every result, StateChanged for every verified change

Time is the frame's (`Frame.mono`), so a run over a file gates the same way every time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from edge_app.bus import Bus, Classified, StateChanged
from edge_app.frames import Frame, Result
from edge_app.regions.confirm import Confirmer
from edge_app.regions.gates import Gate, gate_for
from edge_app.regions.spec import FULL, WHOLE_FRAME, RegionSpec
from edge_app.runtime.worker import InferenceWorker, Job

if TYPE_CHECKING:
    from edge_app.model.classifier import Classifier
    from edge_app.regions.motion import MotionDetector

log = logging.getLogger("edge_app.runtime")
ModelFor = Callable[[RegionSpec], "Classifier"]  # which classifier a region runs (models.py decides)


def whole_frame() -> RegionSpec:
    """The default region: the whole view, on every frame, as before regions existed."""
    return RegionSpec(WHOLE_FRAME, FULL, threshold=0.0, confirm=1)


@dataclass
class _Region:
    spec: RegionSpec
    gate: Gate
    confirmer: Confirmer


def crop(frame: Frame, spec: RegionSpec) -> Frame:
    """The region's part of the frame, as a frame of its own (same number and times)."""
    if spec.box.whole:
        return frame
    height, width = frame.image.shape[:2]
    left, top, right, bottom = spec.box.pixels(width, height)
    return replace(frame, image=frame.image[top:bottom, left:right])


class RegionRunner:
    def __init__(
        self,
        camera: str,
        specs: Sequence[RegionSpec],
        model_for: ModelFor,
        worker: InferenceWorker,
        bus: Bus,
        motion: MotionDetector | None = None,
    ) -> None:
        self.camera = camera
        self._model_for = model_for
        self._worker = worker
        self._bus = bus
        self._regions = [_Region(spec, gate_for(spec), Confirmer(spec.confirm, spec.threshold)) for spec in specs]
        self._motion = motion if any(r.gate.needs_motion for r in self._regions) else None
        self.runs = 0

    def frame(self, frame: Frame) -> None:
        """Hand the due regions' crops to the worker; returns at once (the video never waits)."""
        motion = self._motion.update(frame.image, frame.mono) if self._motion is not None else None
        for region in self._regions:
            if not region.gate.due(frame.mono, motion, region.confirmer.pending):
                continue
            region.gate.ran(frame.mono)
            self._submit(region, frame)

    def _submit(self, region: _Region, frame: Frame) -> None:
        model = self._model_for(region.spec)
        part = crop(frame, region.spec)
        self._worker.submit(
            Job(
                (self.camera, region.spec.name),
                lambda: model.classify_frame(part),
                lambda result: self._classified(region, frame, result),
            )
        )

    def _classified(self, region: _Region, frame: Frame, result: Result) -> None:
        self.runs += 1
        spec = region.spec
        transition = region.confirmer.observe(result.top[0].label, result.top[0].score) if result.top else None
        box = None if spec.name == WHOLE_FRAME else spec.box
        self._bus.publish(
            Classified(self.camera, spec.name, frame, result, box, region.confirmer.state, region.confirmer.pending)
        )
        if transition is not None:
            self._bus.publish(
                StateChanged(
                    self.camera,
                    spec.name,
                    transition.state,
                    transition.previous,
                    transition.score,
                    frame,
                    spec.box,
                    frame.ts,
                    tuple((label.label, label.score) for label in result.top),
                )
            )
