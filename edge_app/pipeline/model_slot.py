"""The classifier live inference uses, swappable while the pipeline runs (teaching a new model).

The inference thread reads `current` on every frame; a swap takes effect on the next one. The
swapper can wait until a result of the new model has been published, i.e. is on screen.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from edge_app.model.classifier import Classifier


class ModelSlot:
    def __init__(self, classifier: Classifier) -> None:
        self._current = classifier
        self._lock = threading.Lock()
        self._live: dict[int, threading.Event] = {}  # id(classifier) -> set once it published
        self._listeners: list[Callable[[Classifier], None]] = []

    @property
    def current(self) -> Classifier:
        return self._current

    def on_swap(self, listener: Callable[[Classifier], None]) -> None:
        """Call `listener` with each new classifier (e.g. to update the status page's model)."""
        self._listeners.append(listener)

    def swap(self, classifier: Classifier) -> threading.Event:
        """Use `classifier` from the next frame on; the event is set once a result of it is published."""
        published = threading.Event()
        with self._lock:
            self._live = {id(classifier): published}
            self._current = classifier
        for listener in self._listeners:
            listener(classifier)
        return published

    def published(self, classifier: Classifier) -> None:
        """The pipeline published a result of `classifier` (cheap: called for every result)."""
        if self._live:
            with self._lock:
                event = self._live.pop(id(classifier), None)
            if event is not None:
                event.set()
