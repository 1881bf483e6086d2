"""The effective settings of one run: a typed class per config section, and the cameras.

Every key is declared once, as a field of its section's class (sections/, listed in
registry.py), with a `Key` saying its help, checks and text forms. The CLI options, the config
template, `config show` and the environment variables are all derived from them, so adding a
setting is one field and adding a section one module plus a line.

A camera is its name, its [source] values, its model (the [model] section, with `model` and
`labels` of its own if its table sets them) and its regions. A file without `[cameras.NAME]`
tables has one camera, DEFAULT_CAMERA, made of [source]: today's flat files are that shorthand.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from edge_app.regions.spec import DEFAULT_CAMERA, RegionSpec
from edge_app.settings.keys import ENV_PREFIX, Key
from edge_app.settings.registry import SECTIONS, Section
from edge_app.settings.sections.model import ModelConfig
from edge_app.settings.sections.mqtt import MqttConfig
from edge_app.settings.sections.output import DEFAULT_LIVE_VIEW, YEAR_S, OutputConfig
from edge_app.settings.sections.service import ServiceConfig
from edge_app.settings.sections.source import SourceConfig
from edge_app.sources.spec import SourceSpec

__all__ = ["BY_NAME", "DEFAULT_CAMERA", "DEFAULT_LIVE_VIEW", "ENV_PREFIX", "KEYS", "SECTIONS", "YEAR_S", "Key"]

# The EDGE_APP_* variables that are not settings. With each setting's own (Key.env), these are all
# the names edge-app reads; any other is warned about as a likely typo.
OTHER_ENV = (
    "EDGE_APP_CONFIG",
    "EDGE_APP_MODELS",
    "EDGE_APP_CATALOG",
    "EDGE_APP_MODEL_MIRROR",
    "EDGE_APP_REQUIRE_TOOLS",
    "EDGE_APP_SHARED",
)  # not settings: paths, CI and test switches
T = TypeVar("T")


@dataclass(frozen=True)
class CameraConfig:
    """One camera: where its frames come from, the model its regions default to, its regions."""

    name: str
    source: SourceConfig
    model: ModelConfig
    regions: tuple[RegionSpec, ...] = ()

    @property
    def source_spec(self) -> SourceSpec:
        return self.source.spec


@dataclass(frozen=True)
class Settings:
    """The effective settings of one run, each value typed and checked."""

    sections: Mapping[str, Any]  # section name -> its config instance
    cameras: tuple[CameraConfig, ...]
    # Where each value came from ("default", "file PATH", "env NAME", "command line") by flat name
    # (a camera's own: "cameras.NAME.KEY"), and the file read.
    origins: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)
    config_path: Path | None = None

    def section(self, config: type[T]) -> T:
        """The typed values of the section whose class is `config`."""
        for value in self.sections.values():
            if isinstance(value, config):
                return value
        raise KeyError(config.__name__)

    @property
    def model(self) -> ModelConfig:
        return self.section(ModelConfig)

    @property
    def output(self) -> OutputConfig:
        return self.section(OutputConfig)

    @property
    def mqtt(self) -> MqttConfig:
        return self.section(MqttConfig)

    @property
    def service(self) -> ServiceConfig:
        return self.section(ServiceConfig)

    @property
    def camera(self) -> CameraConfig:
        """The first camera: the one a one-camera run has, and the default of `?camera=`."""
        return self.cameras[0]

    @property
    def state_path(self) -> Path:
        return self.service.state_path

    def value(self, name: str) -> Any:
        """A setting by its flat name, as the sections hold it (per-camera keys: the first camera's)."""
        key = BY_NAME[name]
        holder: Any = self.sections[key.section]
        if key.section == "source":
            holder = self.camera.source
        elif key.section == "model" and name in ("model", "labels"):
            holder = self.camera.model
        return getattr(holder, key.field)


def _all_keys(sections: tuple[Section, ...]) -> tuple[Key, ...]:
    return tuple(key for section in sections for key in section.keys)


KEYS: tuple[Key, ...] = _all_keys(SECTIONS)
BY_NAME: dict[str, Key] = {key.name: key for key in KEYS}
SECTION_NAMES: tuple[str, ...] = tuple(section.name for section in SECTIONS)
CAMERA_KEYS: tuple[Key, ...] = tuple(key for section in SECTIONS for key in section.camera_keys())


def check_camera_name(name: object) -> str:
    """Camera names are used in topics, folders and `?camera=`: the same rule as region names."""
    from edge_app.errors import EdgeAppError
    from edge_app.regions.spec import NAME_PATTERN

    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise EdgeAppError(
            f"camera name {name!r} is not usable",
            "use 1 to 40 lower-case letters, digits, '-' or '_', starting with a letter or digit",
        )
    return name
