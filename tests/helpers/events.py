"""Publishing what the runtime will publish (StateChanged, Classified, FrameShown) on a Bus, for
the events tests and benchmarks, and a teacher that records what it is taught."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from edge_app.bus import Classified, FrameShown, StateChanged
from edge_app.frames import Frame, Label, Result
from edge_app.regions.spec import Box

DOOR = Box(0.5, 0.0, 1.0, 0.5)


def scene(seq: int, level: int = 60, size: tuple[int, int] = (160, 120)) -> np.ndarray:
    image = np.zeros((size[1], size[0], 3), np.uint8)
    image[:] = level
    image[: size[1] // 4, : size[0] // 4] = (seq * 7) % 256
    return image


def frame(seq: int, image: np.ndarray | None = None, mono: float | None = None) -> Frame:
    now = time.monotonic() if mono is None else mono
    return Frame(scene(seq) if image is None else image, seq, ts=time.time(), mono=now)


def classified(
    seq: int,
    label: str,
    score: float,
    region: str = "door",
    state: str | None = None,
    box: Box | None = DOOR,
    camera: str = "cam",
    image: np.ndarray | None = None,
    embedding: np.ndarray | None = None,
) -> Classified:
    shot = frame(seq, image)
    result = Result(seq, shot.ts, shot.mono, (Label(0, label, score),), 1.0, embedding=embedding)
    return Classified(camera, region, shot, result, box, state, False)


def changed(seq: int, state: str, previous: str | None, region: str = "door", camera: str = "cam") -> StateChanged:
    shot = frame(seq)
    return StateChanged(camera, region, state, previous, 0.95, shot, DOOR, shot.ts)


def shown(seq: int, mono: float, camera: str = "cam") -> FrameShown:
    shot = frame(seq, mono=mono)
    return FrameShown(camera, shot.image, shot, None)


@dataclass
class RecordingTeacher:
    """A RegionTeacher that keeps what it is given."""

    taught: bool = False
    examples: list[tuple[str, bytes, Any]] = field(default_factory=list)
    trainings: int = 0
    refuse: str = ""  # train raises NotEnough with this, as the real one does with too few examples

    def add_example(self, label: str, photo: bytes, embedding: np.ndarray | None) -> bool:
        self.examples.append((label, photo, embedding))
        return True

    def train(self) -> dict[str, Any]:
        if self.refuse:
            from edge_app.teach.errors import NotEnough

            raise NotEnough(self.refuse)
        self.trainings += 1
        self.taught = True
        return {"seconds": 0.0, "classes": sorted({label for label, _, _ in self.examples})}
