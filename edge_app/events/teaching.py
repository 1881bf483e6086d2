"""How the review queue teaches: the chosen frames become examples of their region, and "Train"
retrains it. Per-region teaching belongs to `regions`; until it is wired in, today's Teacher
(the whole frame) is served for region "frame" through the same small interface."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from edge_app.regions.spec import WHOLE_FRAME
from edge_app.teach.store import check_label
from edge_app.teach.teacher import Teacher


class RegionTeacher(Protocol):
    @property
    def taught(self) -> bool: ...

    def add_example(self, label: str, photo: bytes, embedding: np.ndarray | None) -> bool: ...

    def train(self) -> dict[str, Any]: ...


TeacherFor = Callable[[str, str], "RegionTeacher | None"]  # (camera, region) -> its teacher, if it can be taught


class WholeFrameTeacher:
    """Today's Teacher as a RegionTeacher. A frame's embedding from the live model is reused, so
    assigning many frames costs no inference; without one, the photo is embedded as an upload."""

    def __init__(self, teacher: Teacher) -> None:
        self.teacher = teacher

    @property
    def taught(self) -> bool:
        return self.teacher.taught is not None

    def add_example(self, label: str, photo: bytes, embedding: np.ndarray | None) -> bool:
        if embedding is None or embedding.shape != (self.teacher.slot.current.embedding_size,):
            return bool(self.teacher.add_photo(label, photo)["added"])
        example, added = self.teacher.store.add(check_label(label), photo, ".jpg")
        self.teacher.cache.put(example.digest, "orig", {"pooled": embedding.astype(np.float32)})
        return added

    def train(self) -> dict[str, Any]:
        return self.teacher.train().as_dict()


def whole_frame(teacher: Teacher | None) -> TeacherFor:
    adapter = WholeFrameTeacher(teacher) if teacher is not None else None
    return lambda camera, region: adapter if region == WHOLE_FRAME else None
