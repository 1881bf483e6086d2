"""Which outputs a run has, chosen by their config sections.

Each output names the section it reads, whether that section switches it on, and the module that
builds it; the module is imported only when chosen (cv2's GUI, sockets and encoders stay unloaded
otherwise). Adding an output is one module with a `from_config(config, context)` function, its
section (settings/sections/), and one line in OUTPUTS.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edge_app.regions.spec import DEFAULT_CAMERA
from edge_app.settings.sections.mqtt import MqttConfig
from edge_app.settings.sections.output import OutputConfig

if TYPE_CHECKING:
    from edge_app.endpoints import Route
    from edge_app.pipeline.state import PipelineState
    from edge_app.regions.board import RegionBoard
    from edge_app.settings import Settings
    from edge_app.sink import Sink


@dataclass(frozen=True)
class SinkContext:
    """What outputs may read of the running pipeline, built before them."""

    state: PipelineState
    source_fps: Callable[[], float | None]  # known once the source is open
    routes: Sequence[Route] = ()  # endpoints features add to the live view (teaching, metrics)
    state_dir: Path = Path(".")
    camera: str = DEFAULT_CAMERA  # the first camera's name (the whole-frame results of the pipeline are its)
    regions: RegionBoard | None = None  # what each region is doing (MQTT's per-region sensors)


@dataclass(frozen=True)
class Output:
    name: str
    section: type  # the config class it reads
    wanted: Callable[[Any], bool]  # on that section's values
    module: str  # defines from_config(config, context: SinkContext) -> Sink


OUTPUTS: tuple[Output, ...] = (
    Output("live view", OutputConfig, lambda c: c.live_view is not None, "edge_app.web.sink"),
    Output("events", OutputConfig, lambda c: c.events is not None, "edge_app.sinks.events"),
    Output("recording", OutputConfig, lambda c: c.record is not None, "edge_app.sinks.recorder"),
    Output("window", OutputConfig, lambda c: c.display, "edge_app.sinks.window"),
    Output("mqtt", MqttConfig, lambda c: c.url is not None, "edge_app.sinks.mqtt"),
)


def build_sinks(settings: Settings, context: SinkContext) -> list[Sink]:
    """Every wanted output, each checked as it is built (paths, ports, GUI); when one fails, the
    ones already built are released (e.g. the live view's port) before the error goes up."""
    sinks: list[Sink] = []
    try:
        for output in OUTPUTS:
            config: Any = settings.section(output.section)
            if output.wanted(config):
                sinks.append(importlib.import_module(output.module).from_config(config, context))
    except BaseException:
        close_all(sinks)
        raise
    return sinks


def close_all(sinks: list[Sink]) -> None:
    for sink in sinks:
        sink.close(0.5)
