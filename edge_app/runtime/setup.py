"""The runtime's part of assembling a run: the bus, the one inference worker, every camera's regions
(their book, saved states, models and teachers), the further cameras, the live board, events, and
the routes they add to the live view.

The first camera's whole frame stays the pipeline's (its threads, live view and outputs, as in a
one-camera run); its results are also put on the bus, so events and review hear them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from edge_app.bus import Bus, Classified
from edge_app.endpoints import Route
from edge_app.errors import EdgeAppError
from edge_app.frames import Frame, Result
from edge_app.heartbeat import Heartbeat
from edge_app.regions import states
from edge_app.regions.board import RegionBoard
from edge_app.regions.book import RegionBook
from edge_app.regions.spec import WHOLE_FRAME, RegionSpec
from edge_app.runtime.cameras import CameraRun, SharedRuntime
from edge_app.runtime.models import RegionModels, Teachable
from edge_app.runtime.regions import RegionRunner, whole_frame
from edge_app.runtime.worker import InferenceWorker

if TYPE_CHECKING:
    from edge_app.events.setup import Events
    from edge_app.events.teaching import RegionTeacher
    from edge_app.pipeline.capture import CaptureOptions
    from edge_app.pipeline.model_slot import ModelSlot
    from edge_app.regions.teaching import RegionTeachers
    from edge_app.settings import Settings
    from edge_app.settings.schema import CameraConfig
    from edge_app.teach.setup import Teaching
    from edge_app.teach.teacher import Teacher

log = logging.getLogger("edge_app.runtime")


@dataclass
class Camera:
    """One camera's regions as they run: the page's book, the runner, the models they use."""

    name: str
    book: RegionBook
    runner: RegionRunner
    models: RegionModels
    whole: bool  # the runner runs the whole frame too (a further camera: no pipeline does it)

    def specs(self, regions: Sequence[RegionSpec]) -> tuple[RegionSpec, ...]:
        return (whole_frame(), *regions) if self.whole else tuple(regions)


@dataclass
class Runtime:
    shared: SharedRuntime
    board: RegionBoard
    cameras: dict[str, Camera]
    routes: tuple[Route, ...] = ()
    first: str = ""
    events: Events | None = None
    _teaching: Teaching | None = field(default=None, repr=False)

    @property
    def bus(self) -> Bus:
        return self.shared.bus

    def on_frame(self, frame: Frame) -> None:
        """The first camera's capture: its regions' crops to the worker, at once."""
        self.cameras[self.first].runner.frame(frame)

    def classified(self, frame: Frame, result: Result) -> None:
        """The first camera's whole-frame result (from the pipeline), for the bus's listeners."""
        self.bus.publish(Classified(self.first, WHOLE_FRAME, frame, result))


def setup(
    settings: Settings, slot: ModelSlot, teaching: Teaching, stop: threading.Event, capture: CaptureOptions, batch: bool
) -> Runtime:
    from edge_app.regions.teaching import RegionTeachers

    bus, worker, board = Bus(lossless=batch), InferenceWorker(stop, lossless=batch), RegionBoard()
    board.subscribe(bus)
    state_dir = settings.state_path
    teachable = Teachable(state_dir, live=not batch) if settings.model.teach else None
    cameras: dict[str, Camera] = {}

    def factory(camera: str, region: str) -> Teacher | str:
        own = cameras.get(camera)
        if own is None:
            return f"there is no camera {camera!r}"
        spec = own.book.get(region)
        return f"there is no region {region!r}" if spec is None else own.models.teacher(spec)

    teachers = RegionTeachers(factory, settings.camera.name)
    further: list[CameraRun] = []
    for index, config in enumerate(settings.cameras):
        own_slot = slot if index == 0 else _open_model(config)
        camera = _camera(config, own_slot, state_dir, teachable, worker, bus, board, teachers, whole=index > 0)
        cameras[config.name] = camera
        if index > 0:
            further.append(_further(config, camera.runner))
    states.StateKeeper(state_dir).subscribe(bus)
    runtime = Runtime(
        SharedRuntime(bus, worker, further, capture, settings.camera.name), board, cameras, first=settings.camera.name
    )
    runtime.shared.marks = board.marks
    runtime.events = _events(settings, runtime, teaching, teachers, batch)
    runtime.shared.services = [runtime.events] if runtime.events is not None else []
    runtime.routes = tuple(_routes(runtime, teaching, teachers))
    _teach_what_was_taught(cameras, teachers)
    return runtime


def _open_model(config: CameraConfig) -> ModelSlot:
    from edge_app.model.classifier import Classifier
    from edge_app.pipeline.model_slot import ModelSlot

    return ModelSlot(Classifier.open(config.model.options, warn=log.warning))


def _camera(
    config: CameraConfig,
    slot: ModelSlot,
    state_dir: Path,
    teachable: Teachable | None,
    worker: InferenceWorker,
    bus: Bus,
    board: RegionBoard,
    teachers: RegionTeachers,
    whole: bool,
) -> Camera:
    book = RegionBook(config.name, config.regions, state_dir)
    saved = states.load(state_dir, config.name)
    for name, kept in saved.items():
        log.info("camera %s, region %s: starts from its last state %r", config.name, name, kept.state)
    models = RegionModels(config.name, slot, config.model.options, teachable)
    specs = (whole_frame(), *book.specs) if whole else book.specs
    runner = RegionRunner(config.name, specs, models, worker, bus, saved, teachers.observe)
    models.on_swap(runner.rerun)
    camera = Camera(config.name, book, runner, models, whole)
    board.set_regions(config.name, book.specs, saved)

    def changed(regions: tuple[RegionSpec, ...]) -> None:
        before = {spec.name: spec for spec in runner.specs}
        for spec in before.values():
            if spec.name != WHOLE_FRAME and spec not in regions:
                models.forget(spec.name)
                teachers.forget(config.name, spec.name)
        runner.set_regions(camera.specs(regions))
        board.set_regions(config.name, regions)

    book.on_change(changed)
    return camera


def _further(config: CameraConfig, runner: RegionRunner) -> CameraRun:
    from edge_app.pipeline.capture import SourceHealth
    from edge_app.sources.factory import open_source

    source = open_source(config.source_spec)
    log.info("camera %s: source %s", config.name, source.name)
    return CameraRun(config.name, source, runner, Heartbeat(f"capture-{config.name}"), SourceHealth(source.name))


def _teach_what_was_taught(cameras: dict[str, Camera], teachers: RegionTeachers) -> None:
    """A region taught in an earlier run runs its taught model from the first frame on."""
    for camera in cameras.values():
        for spec in camera.book.specs:
            if camera.models.has_taught(spec.name):
                try:
                    teachers.teacher(camera.name, spec.name)
                except EdgeAppError as exc:
                    log.warning("camera %s, region %s: its taught model is not used: %s", camera.name, spec.name, exc)


def _events(
    settings: Settings, runtime: Runtime, teaching: Teaching, teachers: RegionTeachers, batch: bool
) -> Events | None:
    """Events and review, in real time; a state dir that cannot keep them is one line, not a failed run."""
    if batch:
        return None
    from edge_app.events.setup import setup as setup_events
    from edge_app.events.teaching import WholeFrameTeacher
    from edge_app.settings.sections.events import EventsConfig

    def teacher_for(camera: str, region: str) -> RegionTeacher | None:
        if region == WHOLE_FRAME:
            whole = teaching.teacher if camera == runtime.first else None
            return WholeFrameTeacher(whole) if whole is not None else None
        try:
            return WholeFrameTeacher(teachers.teacher(camera, region))
        except EdgeAppError:
            return None

    try:
        return setup_events(settings.section(EventsConfig), settings.state_path, runtime.bus, teacher_for)
    except EdgeAppError as exc:
        log.warning("events are off: %s", exc.message)
        return None


def _routes(runtime: Runtime, teaching: Teaching, teachers: RegionTeachers) -> list[Route]:
    from edge_app.regions.http import routes as region_routes
    from edge_app.regions.teaching import routes as teach_routes

    books = {name: camera.book for name, camera in runtime.cameras.items()}
    routes = [*region_routes(books, runtime.board), *teach_routes(teaching.routes, teachers)]
    if runtime.events is not None:
        routes.extend(runtime.events.routes)
    return routes
