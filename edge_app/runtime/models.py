"""Which model a region runs, decided here only:

1. the model taught for that region in the live view (kept in the region's folder of the state dir);
2. else the region's own `.tflite` when it names one (opened once per path, shared by every region
   that names it);
3. else its camera's model slot (the base model, or the one taught for the whole frame, swapped in
   place).

A region's Teacher is made here too (on first use, or at start when something was taught for it),
because teaching swaps the model this module hands out.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from edge_app.regions.spec import RegionSpec
from edge_app.regions.states import teach_root

if TYPE_CHECKING:
    from edge_app.model.classifier import Classifier
    from edge_app.model.options import ModelOptions
    from edge_app.pipeline.model_slot import ModelSlot
    from edge_app.teach.teacher import Teacher

log = logging.getLogger("edge_app.runtime")


@dataclass(frozen=True)
class Teachable:
    """Where a camera's regions keep what they are taught; None in RegionModels: teaching is off."""

    state_dir: Path
    live: bool  # real time: the taught model also gives the embedding teaching needs


class RegionModels:
    def __init__(self, camera: str, slot: ModelSlot, options: ModelOptions, teachable: Teachable | None = None) -> None:
        self.camera = camera
        self.slot = slot
        self.options = options
        self.teachable = teachable
        self._by_path: dict[str, Classifier] = {}
        self._camera_base: Classifier | None = None  # the camera's own model file, read for teaching
        self._taught: dict[str, ModelSlot] = {}  # region name -> the slot its Teacher swaps
        self._lock = threading.Lock()
        self._swapped: Callable[[str], None] = lambda region: None

    def on_swap(self, listener: Callable[[str], None]) -> None:
        """`listener(region)` whenever a region's taught model is swapped in (the runner reruns it)."""
        self._swapped = listener

    def __call__(self, spec: RegionSpec) -> Classifier:
        with self._lock:
            taught = self._taught.get(spec.name)
        if taught is not None:
            return taught.current
        return self.configured(spec)

    def published(self, spec: RegionSpec, classifier: Classifier) -> None:
        """A result of the region's model is out: a training waiting to see its model live ends."""
        with self._lock:
            taught = self._taught.get(spec.name)
        if taught is not None:
            taught.published(classifier)

    def configured(self, spec: RegionSpec) -> Classifier:
        """The model the config (or the page) gives the region, without what was taught for it."""
        if spec.model is None:
            return self.slot.current
        with self._lock:
            if spec.model not in self._by_path:
                from edge_app.model.classifier import Classifier

                self._by_path[spec.model] = Classifier.open(replace(self.options, model=str(Path(spec.model))))
            return self._by_path[spec.model]

    def _base(self, spec: RegionSpec) -> Classifier:
        """What a region's teaching builds on: its own `.tflite`, else the camera's model as the
        file names it, never the slot's (that may be a model built in memory, e.g. the whole
        frame's taught or embedding-giving one, with no file to read back)."""
        if spec.model is not None:
            return self.configured(spec)
        with self._lock:
            if self._camera_base is None:
                from edge_app.model.classifier import Classifier

                self._camera_base = Classifier.open(self.options)
            return self._camera_base

    def has_taught(self, region: str) -> bool:
        """Something was taught for `region` in an earlier run (its model is in the state dir)."""
        if self.teachable is None:
            return False
        return (teach_root(self.teachable.state_dir, self.camera, region) / "model.tflite").is_file()

    def teacher(self, spec: RegionSpec) -> Teacher | str:
        """The region's Teacher, its slot now the one this region runs; or why it cannot be taught."""
        if self.teachable is None:
            return "teaching is off (teach = false)"
        from edge_app.pipeline.model_slot import ModelSlot
        from edge_app.regions.teaching import choose_region_model
        from edge_app.teach.store import ExampleStore
        from edge_app.teach.teacher import Teacher

        state_dir = self.teachable.state_dir
        try:
            chosen = choose_region_model(
                state_dir, self.camera, spec.name, [self._base(spec)], self.options, self.teachable.live
            )
        except OSError as exc:  # the base model's file cannot be read back: this region cannot be taught
            return f"region {spec.name}: its model cannot be read for teaching ({exc.strerror or exc})"
        if chosen.base is None or (not chosen.teachable and chosen.taught is None):
            return chosen.why_not
        slot = ModelSlot(chosen.lanes[0])
        slot.on_swap(lambda _classifier: self._swapped(spec.name))
        with self._lock:
            self._taught[spec.name] = slot
        if not chosen.teachable:
            return chosen.why_not  # the taught model runs; teaching more needs real time
        return Teacher(ExampleStore(teach_root(state_dir, self.camera, spec.name)), slot, chosen.base, chosen.taught)

    def forget(self, region: str) -> None:
        """The region was deleted or changed: its taught slot goes (made again on next use)."""
        with self._lock:
            self._taught.pop(region, None)
