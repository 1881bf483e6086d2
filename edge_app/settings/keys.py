"""A setting's description (`Key`), declared once as a field of its section's config class.

A Key says everything the rest needs: its section, help text, allowed values, how text becomes
the value and back, and how it appears on the command line. `name` is the flat name a config
file, a flag (`--mqtt-qos`) and a variable (`EDGE_APP_MQTT_QOS`) use; `attr` is the field of the
section's class that holds it (`MqttConfig.qos`). Pure: importing it loads no feature.
"""

from __future__ import annotations

import sys
import typing
from collections.abc import Callable
from dataclasses import MISSING, Field, dataclass, field, fields
from typing import Any

ENV_PREFIX = "EDGE_APP_"
_META = "edge_app.key"


@dataclass(frozen=True)
class Key:
    name: str
    section: str
    kind: type  # what a file, variable or flag gives: str, int, float or bool
    default: Any  # the typed value
    help: str
    attr: str = ""  # the field of the section's class; "" means the same as name
    choices: tuple[Any, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    optional: bool = False  # None is a valid value ("not set")
    parse: Callable[[Any], Any] | None = None  # given value -> typed value; its EdgeAppError is the complaint
    show: Callable[[Any], str] | None = None  # typed value -> what a file would hold
    short: str | None = None  # e.g. "-m"
    panel: str | None = None  # --help panel
    example: Any = None  # for the config template, when the default is unset

    @property
    def field(self) -> str:
        return self.attr or self.name

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name.upper()

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def text(self, value: Any) -> Any:
        """The value as a config file holds it (resolution (640, 480) -> "640x480")."""
        return self.show(value) if self.show and value is not None else value


def setting(default: Any, help: str, *, name: str | None = None, **meta: Any) -> Any:
    """A config class field with its Key metadata; `name`: the flat name, when it differs from
    the field's (kind and optionality come from the field's type)."""
    return field(default=default, metadata={_META: dict(help=help, name=name, **meta)})


def _key(f: Field[Any], hint: Any, section: str) -> Key:
    args = typing.get_args(hint)
    optional = type(None) in args
    value_type = next((a for a in args if a is not type(None)), hint) if args else hint
    meta = dict(f.metadata[_META])
    name = meta.pop("name") or f.name
    kind = str if meta.get("parse") else typing.get_origin(value_type) or value_type
    default = f.default if f.default is not MISSING else None
    return Key(name=name, section=section, kind=kind, default=default, optional=optional, attr=f.name, **meta)


def keys_of(config: type, section: str) -> tuple[Key, ...]:
    """The Keys of a config class's fields, in order (fields without Key metadata are not settings)."""
    hints = typing.get_type_hints(config, vars(sys.modules[config.__module__]))
    return tuple(_key(f, hints[f.name], section) for f in fields(config) if _META in f.metadata)


def build(config: type, keys: tuple[Key, ...], values: typing.Mapping[str, Any]) -> Any:
    """An instance of `config` from flat values (by Key.name)."""
    return config(**{key.field: values[key.name] for key in keys})
