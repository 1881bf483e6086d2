"""[source]: the input of a camera. In a file with `[cameras.NAME]` tables it holds the defaults
every camera starts from; without them it is the one camera."""

from __future__ import annotations

import typing
from dataclasses import dataclass

from edge_app.settings.keys import setting
from edge_app.settings.sections.panels import INPUT
from edge_app.sources.orient import ROTATIONS
from edge_app.sources.spec import BACKENDS, DEFAULT_RESOLUTION, Backend, SourceSpec, format_resolution, parse_resolution


@dataclass(frozen=True)
class SourceConfig:
    camera: int = setting(0, "Camera index (used unless a source is set).", minimum=0, panel=INPUT)
    source: str | None = setting(
        None,
        "Video file, folder of images, rtsp:// or http:// URL, or 'synthetic'.",
        short="-s",
        panel=INPUT,
        example="rtsp://camera.local/stream",
    )
    backend: str = setting("auto", "Camera library.", choices=BACKENDS, panel=INPUT)
    resolution: tuple[int, int] = setting(
        DEFAULT_RESOLUTION,
        "Capture size, WIDTHxHEIGHT.",
        parse=parse_resolution,
        show=format_resolution,
        panel=INPUT,
    )
    fps: float | None = setting(
        None,
        "Camera frame rate or slideshow rate (photos a second); files use their own.",
        minimum=0.01,
        maximum=240.0,
        panel=INPUT,
        example=30.0,
    )
    rotate: int = setting(0, "Rotate frames clockwise by this many degrees.", choices=ROTATIONS, panel=INPUT)
    flip: bool = setting(False, "Mirror frames horizontally.", panel=INPUT)
    realtime: bool = setting(
        True, "Pace files at their own fps; off: classify every frame as fast as possible.", panel=INPUT
    )
    loop: bool = setting(
        False,
        "Start a video file or folder over at its end (a demo that runs on); not with --no-realtime.",
        panel=INPUT,
    )

    @property
    def spec(self) -> SourceSpec:
        """The input, decided once: the source when one is set, else the camera."""
        backend = typing.cast(Backend, self.backend)  # one of BACKENDS: checked when the value was read
        return SourceSpec(self.source if self.source is not None else self.camera, backend, self.resolution, self.fps)
