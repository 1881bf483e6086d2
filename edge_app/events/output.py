"""Events' output in `edge-app run`: the first camera's displayed frames go on the run's bus while
some region has clips on (the clip ring buffer's input, FrameShown), and the events are announced
to Home Assistant through the run's MQTT output. The runtime starts and closes the events
themselves, and puts the whole frame's results and the regions' changes on the same bus.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from edge_app.bus import Bus, FrameShown
from edge_app.events.setup import Events
from edge_app.frames import Frame, Result
from edge_app.regions.spec import WHOLE_FRAME
from edge_app.sink import Sink


class EventsOutput(Sink):
    """Publishing never waits in real time: the bus drops the oldest frame for a slow encoder."""

    def __init__(self, events: Events, bus: Bus, camera: str) -> None:
        self.events = events
        self.bus = bus
        self.camera = camera
        self.wants_frames = events.keeper.clips_on  # nothing is drawn or encoded for clips while none is on

    def frame(self, image: np.ndarray, frame: Frame, result: Result | None) -> None:
        if self.wants_frames and frame.seq >= 0:  # not the no-signal card
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
            return whole + [region for region in views if region.classes and region.region != WHOLE_FRAME]

        mqtt.add_announcer(lambda: ha.announcements(mqtt.topics, mqtt.device, regions()))
        self.events.keeper.announce = ha.Announcer(mqtt.topics, mqtt.send)


def attach(
    events: Events | None, bus: Bus, camera: str, sinks: Sequence[Sink], source_fps: Callable[[], float | None]
) -> EventsOutput | None:
    """The run's events output beside `sinks` (None without events); clips take the source's rate."""
    if events is None:
        return None
    events.keeper.fps = source_fps
    output = EventsOutput(events, bus, camera)
    output.announce_to(sinks)
    return output
