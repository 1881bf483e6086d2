"""Teaching's part of assembling a run: the model to run (maybe taught), the slot it can be
swapped in, the teacher and its endpoints. With teaching off or impossible, the endpoint says why
and the run is exactly what it would be without it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from edge_app.endpoints import Reply, Route
from edge_app.model.classifier import Classifier
from edge_app.pipeline.model_slot import ModelSlot

if TYPE_CHECKING:
    from edge_app.frames import Frame, Result
    from edge_app.model.options import ModelOptions
    from edge_app.teach.models import Candidate
    from edge_app.teach.teacher import Teacher

log = logging.getLogger("edge_app.teach")


@dataclass(frozen=True)
class Teaching:
    lanes: list[Classifier]
    slot: ModelSlot
    teacher: Teacher | None = None
    routes: tuple[Route, ...] = field(default=())

    @property
    def observe(self) -> Callable[[Frame, Result], None] | None:
        return self.teacher.observe if self.teacher else None


def _off(lanes: Sequence[Classifier], why: str) -> Teaching:
    answer = Reply.json({"enabled": False, "reason": why, "classes": [], "trained": False})
    return Teaching(list(lanes), ModelSlot(lanes[0]), None, (Route("GET", "/api/teach", lambda _: answer),))


@dataclass(frozen=True)
class TeachOptions:
    """What teaching needs of the settings (so teaching never reads the settings itself)."""

    enabled: bool  # [model] teach
    state_dir: Path
    model: ModelOptions  # the first camera's


def setup(options: TeachOptions, model: Candidate, batch: bool) -> Teaching:
    """`model`: the base, opened here once as whatever runs (the base, or the model taught on it)."""
    if not options.enabled:
        return _off(model.open(), "teaching is off (teach = false)")
    from edge_app.teach.http import routes
    from edge_app.teach.models import choose
    from edge_app.teach.store import ExampleStore
    from edge_app.teach.teacher import Teacher

    store = ExampleStore(options.state_dir / "teach")
    chosen = choose(model, store, options.model, live=not batch)
    if not chosen.teachable or chosen.base is None:
        if not batch:
            log.info("teaching from the live view is off: %s", chosen.why_not)
        return _off(chosen.lanes, chosen.why_not)
    slot = ModelSlot(chosen.lanes[0])
    teacher = Teacher(store, slot, chosen.base, chosen.taught)
    return Teaching(chosen.lanes, slot, teacher, tuple(routes(teacher)))
