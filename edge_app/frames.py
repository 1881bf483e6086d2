"""The two values that flow through every stage: a captured Frame and its classification Result."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

ChannelOrder = Literal["bgr", "rgb"]


@dataclass(frozen=True)
class Label:
    index: int
    label: str
    score: float

    def as_dict(self) -> dict[str, object]:
        return {"index": self.index, "label": self.label, "score": round(self.score, 6)}


def worth_showing(labels: Sequence[Label]) -> tuple[Label, ...]:
    """What the live view shows: the best label, then the runners-up that score anything. A
    "0.0 % background" runner-up is noise (`classify` hides it too)."""
    return tuple(label for i, label in enumerate(labels) if i == 0 or label.score > 0)


@dataclass(frozen=True)
class Frame:
    """One captured image, stamped at capture so every later stage knows how old it is.

    `order` says how the colour channels lie in memory. Sources never convert whole frames;
    the classifier converts the small model input, and BGR-only sinks convert when they must.
    Frames with the same `still` show one picture held for the display (a slideshow photo), so
    one classification serves them all; None for moving video.
    """

    image: np.ndarray
    seq: int
    ts: float = field(default_factory=time.time)
    mono: float = field(default_factory=time.monotonic)
    order: ChannelOrder = "bgr"
    still: int | None = None

    @property
    def bgr(self) -> np.ndarray:
        """The image in OpenCV's order (for drawing, JPEG and video encoding)."""
        return self.image if self.order == "bgr" else np.ascontiguousarray(self.image[..., ::-1])


@dataclass(frozen=True)
class Result:
    """A classification of the frame numbered `seq`, captured at `ts` / `mono` (and showing the
    still picture `still`, if it was one)."""

    seq: int
    ts: float
    mono: float
    top: tuple[Label, ...]
    inference_ms: float
    scores: np.ndarray | None = None
    still: int | None = None
    embedding: np.ndarray | None = None  # the pooled embedding, when the model gives it as a second output (teaching)

    def age_s(self, frame: Frame, now: float) -> float:
        """How old this result is as a label on `frame`: since its own capture, or, on a frame of
        the same still picture, since that frame's (the label is as fresh as the picture)."""
        same_picture = self.still is not None and self.still == frame.still
        return now - (frame.mono if same_picture else self.mono)

    def as_event(self) -> dict[str, object]:
        return {
            "frame": self.seq,
            "ts": round(self.ts, 6),
            "inference_ms": round(self.inference_ms, 3),
            "top": [label.as_dict() for label in self.top],
        }
