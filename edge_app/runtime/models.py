"""Which model a region runs, decided here only: the region's own `.tflite` when it names one
(opened once per path, shared by every region that names it), else its camera's model slot (the
base model, or the one taught from the live view, swapped in place)."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from edge_app.regions.spec import RegionSpec

if TYPE_CHECKING:
    from edge_app.model.classifier import Classifier
    from edge_app.model.options import ModelOptions
    from edge_app.pipeline.model_slot import ModelSlot


class RegionModels:
    def __init__(self, slot: ModelSlot, options: ModelOptions) -> None:
        self.slot = slot
        self.options = options
        self._by_path: dict[str, Classifier] = {}
        self._lock = threading.Lock()

    def __call__(self, spec: RegionSpec) -> Classifier:
        if spec.model is None:
            return self.slot.current
        with self._lock:
            if spec.model not in self._by_path:
                from edge_app.model.classifier import Classifier

                self._by_path[spec.model] = Classifier.open(replace(self.options, model=str(Path(spec.model))))
            return self._by_path[spec.model]
