"""Every config section, in one place: its name, its typed class, and which of its keys a camera
may set for itself. A feature with settings of its own adds a module under sections/ with its
class, and one line here; `settings.section(ItsConfig)` then gives it its typed values."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from edge_app.settings.keys import Key, keys_of
from edge_app.settings.sections.events import EventsConfig
from edge_app.settings.sections.model import ModelConfig
from edge_app.settings.sections.mqtt import MqttConfig
from edge_app.settings.sections.output import OutputConfig
from edge_app.settings.sections.service import ServiceConfig
from edge_app.settings.sections.source import SourceConfig


@dataclass(frozen=True)
class Section:
    name: str
    config: type
    per_camera: tuple[str, ...] | bool = ()  # keys a [cameras.NAME] table may set (True: all of them)
    # A section with tables of its own ([events.regions.R]) reads its whole table itself: no flat keys,
    # no flags or variables; its errors are EdgeAppErrors naming the key.
    from_table: Callable[[Mapping[str, Any]], Any] | None = None

    @property
    def keys(self) -> tuple[Key, ...]:
        return () if self.from_table is not None else keys_of(self.config, self.name)

    def camera_keys(self) -> tuple[Key, ...]:
        if self.per_camera is True:
            return self.keys
        return tuple(key for key in self.keys if self.per_camera and key.name in self.per_camera)


SECTIONS: tuple[Section, ...] = (
    Section("model", ModelConfig, per_camera=("model", "labels")),
    Section("source", SourceConfig, per_camera=True),
    Section("output", OutputConfig),
    Section("mqtt", MqttConfig),
    Section("service", ServiceConfig),
    Section("events", EventsConfig, from_table=EventsConfig.from_table),
)
