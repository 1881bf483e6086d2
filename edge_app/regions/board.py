"""What each region is doing, live: its verified state, score, since when, its last run and how
many, read by /api/status, /api/regions, the overlay, MQTT and /metrics. Fed from the bus
(Classified, StateChanged) on its own subscriber thread; readers get copies."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from edge_app.bus import Bus, Classified, StateChanged
from edge_app.overlay import RegionMark
from edge_app.regions.spec import RegionSpec
from edge_app.regions.states import SavedState

INFERENCE_SAMPLES = 50  # per region, for the mean on the page


@dataclass(frozen=True)
class RegionView:
    camera: str
    spec: RegionSpec
    state: str | None = None
    score: float | None = None  # of the newest result's top class
    since: float | None = None  # wall-clock time the state was verified
    last_run: float | None = None  # wall-clock capture time of the newest result
    runs: int = 0
    changes: int = 0
    pending: bool = False
    restored: bool = False  # the state came from the state dir at start, no result has confirmed it yet
    label: str | None = None  # the newest result's top class (may differ from the state while pending)
    top: tuple[tuple[str, float], ...] = ()
    classes: tuple[str, ...] = ()  # what its model can say (Home Assistant's options)
    inference_ms: float | None = None  # the mean of the last few
    last_ms: float | None = None  # the newest result's

    @property
    def name(self) -> str:
        return self.spec.name

    def mark(self) -> RegionMark:
        return RegionMark(self.spec.box, self.name, self.state, self.score, self.pending)

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.spec.as_dict(),
            "camera": self.camera,
            "state": self.state,
            "score": None if self.score is None else round(self.score, 4),
            "since": None if self.since is None else round(self.since, 3),
            "last_run": None if self.last_run is None else round(self.last_run, 3),
            "runs": self.runs,
            "changes": self.changes,
            "pending": self.pending,
            "restored": self.restored,
            "label": self.label,
            "top": [{"label": label, "score": round(score, 4)} for label, score in self.top],
            "inference_ms": None if self.inference_ms is None else round(self.inference_ms, 2),
        }


Listener = Callable[[RegionView, str], None]  # (view, what): "state", "result", "regions", "classes"


@dataclass
class _Live:
    view: RegionView
    inference: list[float] = field(default_factory=list)


class RegionBoard:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._live: dict[tuple[str, str], _Live] = {}
        self._listeners: list[Listener] = []

    # -- what the regions are --------------------------------------------------------------

    def set_regions(self, camera: str, specs: Sequence[RegionSpec], saved: Mapping[str, SavedState] = {}) -> None:
        """The regions of `camera` now; those that stay keep what they showed, new ones start from
        their `saved` state (after a restart) or none."""
        with self._lock:
            kept = {key: live for key, live in self._live.items() if key[0] != camera}
            for spec in specs:
                old = self._live.get((camera, spec.name))
                if old is not None:
                    kept[(camera, spec.name)] = replace(old, view=replace(old.view, spec=spec))
                    continue
                view = RegionView(camera, spec)
                if spec.name in saved:
                    s = saved[spec.name]
                    view = replace(view, state=s.state, since=s.since, score=s.score, restored=True)
                kept[(camera, spec.name)] = _Live(view)
            self._live = kept
            views = [live.view for key, live in kept.items() if key[0] == camera]
        for view in views:
            self._tell(view, "regions")

    def set_classes(self, camera: str, region: str, classes: Sequence[str]) -> None:
        """The classes the region's model can name (its model was opened, taught or reset)."""
        view = self._update(camera, region, lambda v: replace(v, classes=tuple(classes)))
        if view is not None:
            self._tell(view, "classes")

    # -- from the bus ----------------------------------------------------------------------

    def subscribe(self, bus: Bus) -> None:
        bus.subscribe("regions", self.handle, (Classified, StateChanged))

    def handle(self, event: object) -> None:
        if isinstance(event, Classified):
            self.classified(event)
        elif isinstance(event, StateChanged):
            self.changed(event)

    def classified(self, event: Classified) -> None:
        result = event.result
        best = result.top[0] if result.top else None

        def update(view: RegionView) -> RegionView:
            return replace(
                view,
                runs=view.runs + 1,
                last_run=result.ts,
                score=best.score if best else None,
                label=best.label if best else None,
                top=tuple((label.label, label.score) for label in result.top),
                pending=event.pending,
                restored=view.restored and event.state == view.state,
                state=event.state if event.state is not None else view.state,
            )

        view = self._update(event.camera, event.region, update, result.inference_ms)
        if view is not None:
            self._tell(view, "result")

    def changed(self, event: StateChanged) -> None:
        def update(view: RegionView) -> RegionView:
            return replace(
                view,
                state=event.state,
                score=event.score,
                since=event.ts,
                changes=view.changes + 1,
                restored=False,
                top=event.top or view.top,
            )

        view = self._update(event.camera, event.region, update)
        if view is not None:
            self._tell(view, "state")

    # -- readers ---------------------------------------------------------------------------

    def views(self, camera: str | None = None) -> list[RegionView]:
        with self._lock:
            return [live.view for key, live in self._live.items() if camera is None or key[0] == camera]

    def view(self, camera: str, region: str) -> RegionView | None:
        with self._lock:
            live = self._live.get((camera, region))
            return live.view if live else None

    def marks(self, camera: str | None = None) -> list[RegionMark]:
        """What the overlay draws, in the live view and in recordings."""
        return [view.mark() for view in self.views(camera)]

    def status(self, camera: str | None = None) -> dict[str, dict[str, Any]]:
        """For /api/status: per region name its state, score, since, last run and runs."""
        return {view.name: view.as_dict() for view in self.views(camera)}

    def on_change(self, listener: Listener) -> None:
        self._listeners.append(listener)

    # -- inside ----------------------------------------------------------------------------

    def _update(
        self, camera: str, region: str, change: Callable[[RegionView], RegionView], inference_ms: float | None = None
    ) -> RegionView | None:
        with self._lock:
            live = self._live.get((camera, region))
            if live is None:
                return None  # the whole frame, or a region removed a moment ago
            live.view = change(live.view)
            if inference_ms is not None:
                live.inference = [*live.inference[-(INFERENCE_SAMPLES - 1) :], inference_ms]
                mean = sum(live.inference) / len(live.inference)
                live.view = replace(live.view, inference_ms=mean, last_ms=inference_ms)
            return live.view

    def _tell(self, view: RegionView, what: str) -> None:
        for listener in self._listeners:
            listener(view, what)
