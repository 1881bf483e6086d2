"""Small stand-ins for pipeline tests: scripted sources, a slow or failing classifier, a recording sink."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from edge_app.app import build_state
from edge_app.frames import ChannelOrder, Frame, Label, Result
from edge_app.pipeline import Parts, Pipeline, PipelineOptions
from edge_app.sink import Sink
from edge_app.sources.base import SourceError
from edge_app.sources.synthetic import SyntheticSource

if TYPE_CHECKING:
    from edge_app.model.classifier import Classifier
    from edge_app.pipeline.state import PipelineState


class ScriptedSource:
    """A live (or paced) source whose read() follows a script: frames, faults, garbage, stalls."""

    name = "scripted"
    order: ChannelOrder = "bgr"

    def __init__(
        self,
        script: Callable[[int], object],
        live: bool = True,
        fps: float | None = None,
        size: tuple[int, int] = (64, 48),
        fps_known_after_open: bool = False,
    ) -> None:
        self.script = script
        self.live = live
        self._fps = None if fps_known_after_open else fps
        self._fps_after_open = fps
        self.size = size
        self.reads = 0
        self.opens = 0
        self.closes = 0

    @property
    def fps(self) -> float | None:
        return self._fps

    def open(self) -> None:
        self.opens += 1
        self._fps = self._fps_after_open

    def read(self) -> np.ndarray | None:
        step = self.reads
        self.reads += 1
        action = self.script(step)
        if isinstance(action, Exception):
            raise action
        if action == "empty":
            return np.zeros((0, 0, 3), np.uint8)
        if action == "none":
            return None
        if isinstance(action, (int, float)) and not isinstance(action, bool):
            time.sleep(float(action))  # a stall inside the "driver"
        image = np.full((self.size[1], self.size[0], 3), step % 256, np.uint8)
        return image

    def close(self) -> None:
        self.closes += 1


@dataclass(frozen=True)
class FakeInfo:
    name: str = "fake"
    delegate: str = "cpu"
    runtime: str = "fake"


class FakeClassifier:
    """Mirrors the parts of Classifier the pipeline uses; `delay` makes it slow, `fail` makes it raise,
    and `busy_until` (called with no arguments) holds each call until the test's condition is met:
    slow by events, not by the clock."""

    def __init__(
        self,
        delay: float = 0.0,
        fail: Callable[[int], bool] = lambda i: False,
        busy_until: Callable[[], None] | None = None,
    ) -> None:
        self.delay = delay
        self.fail = fail
        self.busy_until = busy_until
        self.info = FakeInfo()
        self.calls = 0
        self.seen: list[int] = []

    def prepare(self, image: np.ndarray, order: str = "bgr") -> np.ndarray:
        return image[:1, :1]

    def rank(self, scores: np.ndarray) -> tuple[Label, ...]:
        best = int(np.argmax(scores))
        return (Label(best, f"class {best}", float(scores[best])),)

    def classify_frame(self, frame: Frame, tensor: np.ndarray | None = None) -> Result:
        call = self.calls
        self.calls += 1
        if self.delay:
            time.sleep(self.delay)  # stands in for the time an invoke takes
        if self.busy_until is not None:
            self.busy_until()
        if self.fail(call):
            raise RuntimeError(f"invoke failed on call {call}")
        self.seen.append(frame.seq)
        scores = np.zeros(4, np.float32)
        scores[frame.seq % 4] = 1.0
        return Result(frame.seq, frame.ts, frame.mono, self.rank(scores), self.delay * 1000, scores)


def as_classifier(fake: FakeClassifier) -> Classifier:
    """The fake where edge_app's signatures name the real Classifier: it has every part a run calls."""
    return cast("Classifier", fake)


def fake_state() -> PipelineState:
    """A run's state (what the status page and the sinks read) for a fake model on synthetic frames."""
    return build_state(SyntheticSource(), as_classifier(FakeClassifier()))


@dataclass
class RecordingSink(Sink):
    frames: list[tuple[int, tuple[int, ...]]] = field(default_factory=list)
    results: list[Result] = field(default_factory=list)
    lossless: bool | None = None
    closed: bool = False

    def start(self, stop: threading.Event, lossless: bool = False) -> None:
        self.lossless = lossless

    def frame(self, image: np.ndarray, frame: Frame, result: Result | None) -> None:
        self.frames.append((frame.seq, image.shape))

    def result(self, result: Result) -> None:
        self.results.append(result)

    def close(self, timeout: float = 2.0) -> None:
        self.closed = True


def fault(text: str = "unplugged") -> SourceError:
    return SourceError(text)


def make_pipeline(
    source: Any,
    classifier: Any,
    sinks: Sequence[Sink],
    options: PipelineOptions = PipelineOptions(),
    lanes: Sequence[Any] = (),
    stop: threading.Event | None = None,
) -> Pipeline:
    """Assembled as `edge-app run` assembles it (state first, then the pipeline), from test parts."""
    lanes = list(lanes) or [classifier]
    return Pipeline(Parts(source, lanes, sinks, build_state(source, lanes[0])), options, stop)
