"""The region runtime of one camera: the one place that decides, per frame, which regions run and
with which model, and what their results mean.

    frame -> gate (every frame / every N s / motion in the box / a change pending)
          -> crop -> the shared worker (the region's model) -> threshold -> confirmation
          -> bus: Classified for every result, StateChanged for every verified change

Time is the frame's (`Frame.mono`), so a run over a file gates the same way every time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

from edge_app.bus import Bus, Classified, StateChanged
from edge_app.frames import Frame, Result
from edge_app.regions.confirm import Confirmer
from edge_app.regions.gates import Gate, gate_for
from edge_app.regions.spec import FULL, WHOLE_FRAME, RegionSpec
from edge_app.regions.states import SavedState
from edge_app.runtime.worker import InferenceWorker, Job

if TYPE_CHECKING:
    from edge_app.model.classifier import Classifier
    from edge_app.regions.motion import MotionDetector

log = logging.getLogger("edge_app.runtime")


class ModelFor(Protocol):
    """Which classifier a region runs (models.py decides), told when a result of it came back."""

    def __call__(self, spec: RegionSpec) -> Classifier: ...

    def published(self, spec: RegionSpec, classifier: Classifier) -> None:
        """A result of `classifier` for the region is out (a training waits for it)."""
        ...


@dataclass(frozen=True)
class OneModel:
    """Every region runs `classifier`: benchmarks, tests, and cameras without models of their own."""

    classifier: Classifier

    def __call__(self, spec: RegionSpec) -> Classifier:
        return self.classifier

    def published(self, spec: RegionSpec, classifier: Classifier) -> None:
        pass


def whole_frame() -> RegionSpec:
    """The default region: the whole view, on every frame, as before regions existed."""
    return RegionSpec(WHOLE_FRAME, FULL, threshold=0.0, confirm=1)


@dataclass
class _Region:
    spec: RegionSpec
    gate: Gate
    confirmer: Confirmer
    rerun: bool = False  # its model changed: run on the next frame whatever the gate says


def crop(frame: Frame, spec: RegionSpec) -> Frame:
    """The region's part of the frame, as a frame of its own (same number and times)."""
    if spec.box.whole:
        return frame
    height, width = frame.image.shape[:2]
    left, top, right, bottom = spec.box.pixels(width, height)
    return replace(frame, image=frame.image[top:bottom, left:right])


Observe = Callable[[str, str, Frame, Result], None]  # (camera, region, crop, result): teaching hears it


class RegionRunner:
    def __init__(
        self,
        camera: str,
        specs: Sequence[RegionSpec],
        model_for: ModelFor,
        worker: InferenceWorker,
        bus: Bus,
        saved: Mapping[str, SavedState] | None = None,
        observe: Observe | None = None,
    ) -> None:
        self.camera = camera
        self._model_for = model_for
        self._worker = worker
        self._bus = bus
        self._saved = dict(saved or {})
        self._observe = observe
        self._regions: list[_Region] = []
        self._motion: MotionDetector | None = None
        self._lock = threading.Lock()
        self.runs = 0
        self.set_regions(specs)

    def set_regions(self, specs: Sequence[RegionSpec]) -> None:
        """The regions from the next frame on (the page changed them): those that stay keep their
        gate and verified state; a new one starts from its saved state, if it has one."""
        with self._lock:
            kept = {region.spec.name: region for region in self._regions}
            regions = []
            for spec in specs:
                old = kept.get(spec.name)
                if old is not None and old.spec == spec:
                    regions.append(old)
                    continue
                state = old.confirmer.state if old is not None else self._start_state(spec)
                regions.append(_Region(spec, gate_for(spec), Confirmer(spec.confirm, spec.threshold, state)))
            self._regions = regions
            wants_motion = any(region.gate.needs_motion for region in regions)
            if wants_motion and self._motion is None:
                from edge_app.regions.motion import MotionDetector

                self._motion = MotionDetector()
            elif not wants_motion:
                self._motion = None

    def rerun(self, name: str) -> None:
        """Run region `name` on the next frame: its model changed (taught), so its state may have,
        and a training waits to see the new model's first result, even in a still scene."""
        with self._lock:
            for region in self._regions:
                if region.spec.name == name:
                    region.rerun = True

    def _start_state(self, spec: RegionSpec) -> str | None:
        saved = self._saved.pop(spec.name, None)
        return saved.state if saved is not None else None

    @property
    def specs(self) -> tuple[RegionSpec, ...]:
        with self._lock:
            return tuple(region.spec for region in self._regions)

    def frame(self, frame: Frame) -> None:
        """Hand the due regions' crops to the worker; returns at once (the video never waits)."""
        with self._lock:
            regions, detector = list(self._regions), self._motion
        if not regions:
            return
        motion = detector.update(frame.image, frame.mono) if detector is not None else None
        for region in regions:
            if region.gate.needs_result:
                self._worker.settle((self.camera, region.spec.name))
            if not region.rerun and not region.gate.due(frame.mono, motion, region.confirmer.pending):
                continue
            region.rerun = False
            region.gate.ran(frame.mono)
            self._submit(region, frame)

    def _submit(self, region: _Region, frame: Frame) -> None:
        model = self._model_for(region.spec)
        part = crop(frame, region.spec)
        self._worker.submit(
            Job(
                (self.camera, region.spec.name),
                lambda: model.classify_frame(part),
                lambda result: self._classified(region, frame, part, result, model),
            )
        )

    def _classified(self, region: _Region, frame: Frame, part: Frame, result: Result, model: Classifier) -> None:
        self.runs += 1
        spec = region.spec
        self._model_for.published(spec, model)
        if self._observe is not None:
            self._observe(self.camera, spec.name, part, result)
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
