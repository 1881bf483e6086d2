"""Events in `edge-app run`: an output that puts the camera's whole-frame results (Classified) and,
while clips are on, its displayed frames (FrameShown) on the run's bus, where the keeper hears
them beside the regions' verified changes (StateChanged, published on the same bus by the region
runtime). Its routes join the live view's. Nothing of it exists without an `[events]` section.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from edge_app.bus import Bus, Classified, FrameShown
from edge_app.events.setup import Events, setup
from edge_app.events.teaching import TeacherFor
from edge_app.frames import Frame, Result
from edge_app.regions.spec import WHOLE_FRAME
from edge_app.sinks.base import Sink

if TYPE_CHECKING:
    from edge_app.endpoints import Route
    from edge_app.settings import Settings

CAMERA = "default"  # the one camera of a run without [cameras.NAME] tables (settings' DEFAULT_CAMERA)


class EventsOutput(Sink):
    """Publishing never waits in real time (the bus drops the oldest for a slow keeper); in batch
    mode the bus is lossless, so a run over a file keeps every event, the same each time."""

    def __init__(self, events: Events, bus: Bus, batch: bool, camera: str = CAMERA) -> None:
        self.events = events
        self.bus = bus
        self.camera = camera
        # batch mode hears each frame with its own result only through frame(); live, observe()
        self.wants_frames = events.keeper.clips_on or batch
        self._clips = events.keeper.clips_on
        self._lock = threading.Lock()
        self._last_seq = -1

    @property
    def routes(self) -> tuple[Route, ...]:
        return self.events.routes

    def start(self, stop: threading.Event, lossless: bool = False) -> None:
        self.events.start()
        self.bus.start()

    def observe(self, frame: Frame, result: Result) -> None:
        """`frame` was classified as `result` (live, from the inference thread)."""
        with self._lock:
            if result.seq == self._last_seq:
                return
            self._last_seq = result.seq
        self.bus.publish(Classified(self.camera, WHOLE_FRAME, frame, result))

    def frame(self, image: np.ndarray, frame: Frame, result: Result | None) -> None:
        if result is not None and result.seq == frame.seq:  # batch: every frame shown with its own result
            self.observe(frame, result)
        if self._clips and frame.seq >= 0:  # not the no-signal card
            self.bus.publish(FrameShown(self.camera, image, frame, result))

    def announce_to(self, sinks: Sequence[Sink]) -> None:
        """Home Assistant's event and image entities, through the run's MQTT output if it has one:
        per region (its classes from the region board) and, with `watch`, for the whole frame."""
        from edge_app.events import ha
        from edge_app.sinks.mqtt import MqttSink

        mqtt = next((sink for sink in sinks if isinstance(sink, MqttSink)), None)
        if mqtt is None or not mqtt.options.discovery:
            return
        watch = self.events.keeper.config.watch

        def regions() -> list[ha.RegionClasses]:
            views = [ha.RegionClasses(view.camera, view.name, view.classes) for view in mqtt.region_views()]
            whole = [ha.RegionClasses(self.camera, WHOLE_FRAME, watch)] if watch else []
            return whole + [region for region in views if region.classes]

        mqtt.add_announcer(lambda: ha.announcements(mqtt.topics, mqtt.device, regions()))
        self.events.keeper.announce = ha.Announcer(mqtt.topics, mqtt.send)

    def close(self, timeout: float = 2.0) -> None:
        self.bus.close(timeout / 2)  # what is queued is kept first
        self.events.close(timeout / 2)


def from_settings(
    settings: Settings, teacher_for: TeacherFor, source_fps: Callable[[], float | None], batch: bool
) -> EventsOutput | None:
    """The run's events output, or None when the config has no `[events]` (or `enabled = false`)."""
    config = settings.table("events")
    if config is None:
        return None
    bus = Bus(lossless=batch)
    events = setup(config, settings.state_path, bus, teacher_for, fps=source_fps)
    return None if events is None else EventsOutput(events, bus, batch)
