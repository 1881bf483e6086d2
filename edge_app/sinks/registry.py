"""Which outputs a run has, chosen by its settings.

Each output names the settings that switch it on and the module that builds it; the module is
imported only when chosen (cv2's GUI, sockets and encoders stay unloaded otherwise). Adding an
output is one module with a `from_settings(settings, context)` function, its settings, and one
line in OUTPUTS.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from edge_app.endpoints import Route
    from edge_app.pipeline.state import PipelineState
    from edge_app.regions.board import RegionBoard
    from edge_app.settings import Settings
    from edge_app.sinks.base import Sink


@dataclass(frozen=True)
class SinkContext:
    """What outputs may read of the running pipeline, built before them."""

    state: PipelineState
    source_fps: Callable[[], float | None]  # known once the source is open
    routes: Sequence[Route] = ()  # endpoints features add to the live view (teaching, metrics)
    regions: RegionBoard | None = None  # what each region is doing (MQTT's per-region sensors)


@dataclass(frozen=True)
class Output:
    name: str
    wanted: Callable[[Settings], bool]
    module: str  # defines from_settings(settings: Settings, context: SinkContext) -> Sink


OUTPUTS: tuple[Output, ...] = (
    Output("live view", lambda s: s.live_view is not None, "edge_app.web.sink"),
    Output("events", lambda s: s.events is not None, "edge_app.sinks.events"),
    Output("recording", lambda s: s.record is not None, "edge_app.sinks.recorder"),
    Output("window", lambda s: s.display, "edge_app.sinks.window"),
    Output("mqtt", lambda s: s.mqtt is not None, "edge_app.sinks.mqtt"),
)


def build_sinks(settings: Settings, context: SinkContext) -> list[Sink]:
    """Every wanted output, each checked as it is built (paths, ports, GUI); when one fails, the
    ones already built are released (e.g. the live view's port) before the error goes up."""
    sinks: list[Sink] = []
    try:
        for output in OUTPUTS:
            if output.wanted(settings):
                sinks.append(importlib.import_module(output.module).from_settings(settings, context))
    except BaseException:
        close_all(sinks)
        raise
    return sinks


def close_all(sinks: list[Sink]) -> None:
    for sink in sinks:
        sink.close(0.5)
