"""Resolving the settings: defaults < config file < EDGE_APP_* environment < command line.

Each value is checked (type, choices, range) and parsed exactly once, by the parser of the
module that will use it, and remembers where it came from.
"""

from __future__ import annotations

import difflib
import math
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from edge_app.errors import EdgeAppError, warn
from edge_app.paths import SYSTEM_CONFIG
from edge_app.regions.spec import RegionSpec, check_unique, parse_flag, parse_table
from edge_app.settings.keys import build
from edge_app.settings.registry import SECTIONS
from edge_app.settings.schema import (
    BY_NAME,
    CAMERA_KEYS,
    DEFAULT_CAMERA,
    ENV_PREFIX,
    KEYS,
    OTHER_ENV,
    SECTION_NAMES,
    CameraConfig,
    Key,
    Settings,
    check_camera_name,
)
from edge_app.settings.sections.model import ModelConfig
from edge_app.settings.sections.source import SourceConfig

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

COMMAND_LINE = "command line"
TABLE_SECTIONS = {section.name: section.from_table for section in SECTIONS if section.from_table is not None}


def _fail(where: str, key: str, problem: str, hint: str = "") -> EdgeAppError:
    """`hint`: the parser's own advice, when a parser found the problem."""
    if not hint:
        hint = (
            "see edge-app run --help"
            if where == COMMAND_LINE
            else "fix it, or see `edge-app config init` for every key and its allowed values"
        )
    return EdgeAppError(f"{where}: {key} {problem}", hint)


def _kind_name(key: Key) -> str:
    return {str: "text", int: "a whole number", float: "a number", bool: "true or false"}[key.kind]


def _parse_text(key: Key, text: str, where: str, label: str) -> Any:
    text = text.strip()
    try:
        if key.kind is bool:
            lowered = text.lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError(text)
        return key.kind(text)
    except ValueError:
        raise _fail(where, label, f"must be {_kind_name(key)}, not {text!r}") from None


def coerce(key: Key, raw: Any, where: str, label: str, text: bool = False) -> Any:
    """Turn a given value into the key's typed value, checked. Only environment values (`text`)
    are parsed from strings: in TOML, `flip = "yes"` is a mistake, not a boolean."""
    if raw is None or (isinstance(raw, str) and raw == "" and key.optional):
        if key.optional:
            return None
        raise _fail(where, label, "must be set")
    value = raw
    if text and key.kind is not str:
        value = _parse_text(key, raw, where, label)
    if key.kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, key.kind) or (key.kind is int and isinstance(value, bool)):
        raise _fail(where, label, f"must be {_kind_name(key)}, not {value!r}")
    if isinstance(value, float) and not math.isfinite(value):  # TOML and float() accept nan and inf
        raise _fail(where, label, f"must be a finite number, not {value!r}")
    if key.choices and value not in key.choices:
        raise _fail(where, label, f"must be one of {', '.join(map(str, key.choices))}, not {value!r}")
    if key.minimum is not None and isinstance(value, int | float) and value < key.minimum:
        raise _fail(where, label, f"must be at least {key.minimum:.10g}, not {value!r}")
    if key.maximum is not None and isinstance(value, int | float) and value > key.maximum:
        raise _fail(where, label, f"must be at most {key.maximum:.10g}, not {value!r}")
    if key.parse is None:
        return value
    try:
        return key.parse(value)
    except EdgeAppError as exc:
        raise _fail(where, f"{label}:", exc.message, exc.hint) from None


def config_file(explicit: Path | None, environ: Mapping[str, str]) -> Path | None:
    """--config, else $EDGE_APP_CONFIG, else SYSTEM_CONFIG when it exists."""
    if explicit is not None:
        return explicit
    if environ.get("EDGE_APP_CONFIG"):
        return Path(environ["EDGE_APP_CONFIG"])
    return SYSTEM_CONFIG if SYSTEM_CONFIG.is_file() else None


@dataclass(frozen=True)
class FileLayer:
    """What a config file says: the flat keys of its sections, its cameras, its top-level regions."""

    values: dict[str, Any] = field(default_factory=dict)
    cameras: dict[str, CameraTable] = field(default_factory=dict)
    regions: tuple[RegionSpec, ...] = ()
    tables: dict[str, Any] = field(default_factory=dict)  # sections that read their own table, as read


@dataclass(frozen=True)
class CameraTable:
    values: dict[str, Any]
    regions: tuple[RegionSpec, ...]


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8-sig"))  # -sig: a BOM from Windows Notepad is fine
    except UnicodeDecodeError as exc:  # Latin-1 "caméra", UTF-16, a binary file
        raise EdgeAppError(
            f"config file {path} is not UTF-8 text (byte {exc.start + 1} is 0x{exc.object[exc.start]:02x})",
            "save it as UTF-8",
        ) from None
    except FileNotFoundError:
        raise EdgeAppError(
            f"config file {path} not found", "create one with: edge-app config init " + str(path)
        ) from None
    except OSError as exc:
        raise EdgeAppError(f"cannot read config file {path} ({exc.strerror})", "check its permissions") from None
    except tomllib.TOMLDecodeError as exc:
        raise EdgeAppError(
            f"config file {path} is not valid TOML: {exc}", "fix the syntax (see `edge-app config init`)"
        ) from None
    except RecursionError:  # arrays or tables nested thousands deep: the parser runs out of stack
        raise EdgeAppError(
            f"config file {path} is nested too deeply to read", "a config file has sections of plain keys"
        ) from None


def _in_section(section: str, name: str) -> Key | None:
    """The key `name` of `section`, by its flat name or its short one ([mqtt] qos = mqtt_qos)."""
    key = BY_NAME.get(name)
    if key is not None and key.section == section:
        return key
    return next((k for k in KEYS if k.section == section and k.field == name), None)


def _section_values(where: str, section: str, table: dict[str, Any], warn: Callable[[str], None]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, raw in table.items():
        key = _in_section(section, name)
        if key is None and name in BY_NAME:  # a key of another section: read it, and say where it goes
            key = BY_NAME[name]
            warn(f"{where}: {name} belongs in [{key.section}], not [{section}] (read as [{key.section}] {name})")
        if key is None:
            known = ", ".join(k.name for k in KEYS if k.section == section)
            raise EdgeAppError(f"{where}: unknown key {name!r} in [{section}]", f"known keys there: {known}")
        values[key.name] = coerce(key, raw, where, f"[{key.section}] {name}")
    return values


def _regions(where: str, table: object, label: str) -> tuple[RegionSpec, ...]:
    if not isinstance(table, dict) or not all(isinstance(value, dict) for value in table.values()):
        raise EdgeAppError(f"{where}: [{label}] must hold one table per region", f"e.g. [{label}.door] box = [...]")
    try:
        return check_unique(parse_table(name, value, label) for name, value in table.items())
    except EdgeAppError as exc:
        raise EdgeAppError(f"{where}: {exc.message}", exc.hint) from None


def _camera(where: str, name: str, table: object) -> CameraTable:
    label = f"[cameras.{name}]"
    try:
        check_camera_name(name)
    except EdgeAppError as exc:
        raise EdgeAppError(f"{where}: {exc.message}", exc.hint) from None
    if not isinstance(table, dict):
        raise EdgeAppError(f"{where}: cameras.{name} must be a table", f"write it as {label} with source = ...")
    values: dict[str, Any] = {}
    regions: tuple[RegionSpec, ...] = ()
    for key_name, raw in table.items():
        if key_name == "regions":
            regions = _regions(where, raw, f"cameras.{name}.regions")
            continue
        key = BY_NAME.get(key_name)
        if key is None or key not in CAMERA_KEYS:
            known = ", ".join(k.name for k in CAMERA_KEYS)
            raise EdgeAppError(f"{where}: unknown key {key_name!r} in {label}", f"a camera takes {known} and regions")
        values[key.name] = coerce(key, raw, where, f"{label} {key_name}")
    return CameraTable(values, regions)


def read_config(path: Path, warn: Callable[[str], None] | None = warn) -> FileLayer:
    """The file's sections, cameras and regions, each key validated; unknown sections and keys
    are errors, and a key in the wrong section is read with one line saying where it belongs."""
    data = _load_toml(path)
    where = f"config file {path}"
    say = warn or (lambda _: None)
    layer = FileLayer()
    for section, table in data.items():
        if section == "cameras":
            if not isinstance(table, dict) or not table:
                raise EdgeAppError(f"{where}: [cameras] needs a table per camera", "e.g. [cameras.door] source = 0")
            layer.cameras.update({name: _camera(where, name, value) for name, value in table.items()})
        elif section == "regions":
            layer = replace(layer, regions=_regions(where, table, "regions"))
        elif section in TABLE_SECTIONS and isinstance(table, dict):
            try:
                layer.tables[section] = TABLE_SECTIONS[section](table)
            except EdgeAppError as exc:
                raise EdgeAppError(f"{where}: {exc.message}", exc.hint) from None
        elif section not in SECTION_NAMES or not isinstance(table, dict):
            hint = f"sections are [{'], ['.join((*SECTION_NAMES, 'cameras.NAME', 'regions.NAME'))}]"
            raise EdgeAppError(
                f"{where}: unknown section [{section}]"
                if isinstance(table, dict)
                else f"{where}: {section} must be inside a section",
                hint,
            )
        else:
            layer.values.update(_section_values(where, section, table, say))
    return layer


def read_config_file(path: Path) -> dict[str, Any]:
    """The file's section keys, flattened, each validated (cameras and regions: read_config)."""
    return read_config(path).values


def read_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    return {
        key.name: coerce(key, environ[key.env], "environment", key.env, text=True) for key in KEYS if key.env in environ
    }


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """A warning for each EDGE_APP_* variable edge-app does not read (EDGE_APP_TOPK is silently
    useless otherwise), naming the closest known one."""
    known = [
        name[len(ENV_PREFIX) :] for name in (*(key.env for key in KEYS), *OTHER_ENV)
    ]  # matched without the shared prefix
    warnings = []
    for name in sorted(environ):
        if name.startswith(ENV_PREFIX) and name[len(ENV_PREFIX) :] not in known:
            close = difflib.get_close_matches(name[len(ENV_PREFIX) :], known, n=1)
            warnings.append(
                f"ignoring unknown environment variable {name}"
                + (f": did you mean {ENV_PREFIX}{close[0]}?" if close else "")
            )
    return warnings


def read_command_line(given: Mapping[str, Any]) -> dict[str, Any]:
    """Options the user typed (None means "not given")."""
    unknown = set(given) - set(BY_NAME)
    if unknown:
        raise ValueError(f"not settings: {sorted(unknown)}")  # a programming error, not a user's
    return {
        name: coerce(BY_NAME[name], value, COMMAND_LINE, BY_NAME[name].flag)
        for name, value in given.items()
        if value is not None
    }


_RANK = {"default": 0, "file": 1, "env": 2, "command": 3}


def _rank(origin: str) -> int:
    return _RANK[origin.split()[0]]


def _pick_input(values: dict[str, Any], origins: dict[str, str], prefix: str = "") -> None:
    """`camera` and `source` are two ways to name the input: the one set at the higher level wins."""
    camera, source = prefix + "camera", prefix + "source"
    if values["source"] is None:
        return
    camera_rank, source_rank = _rank(origins[camera]), _rank(origins[source])
    if camera_rank == source_rank and camera_rank > 0:
        raise EdgeAppError(
            f"both camera and source are set ({origins[source]}{' ' + prefix.rstrip('.') if prefix else ''})",
            "set only one: camera = N for a camera, source = ... for a file, URL or folder",
        )
    if camera_rank > source_rank:
        values["source"] = None
        origins[source] = f"overridden by camera ({origins[camera]})"


def _camera_values(
    name: str, table: CameraTable, values: dict[str, Any], origins: dict[str, str], file: str
) -> dict[str, Any]:
    """A camera's per-camera keys: its table over the file's sections, under the environment and the
    command line (which set every camera); its origins go in `origins` as cameras.NAME.KEY."""
    own = {key.name: values[key.name] for key in CAMERA_KEYS}
    prefix = f"cameras.{name}."
    for key in CAMERA_KEYS:
        origin = origins[key.name]
        if key.name in table.values and _rank(origin) <= _RANK["file"]:
            own[key.name], origin = table.values[key.name], file
        origins[prefix + key.name] = origin
    if "source" in table.values or "camera" in table.values:  # the table names its input: [source]'s is no default
        for other in ("source", "camera"):
            if other not in table.values and _rank(origins[prefix + other]) <= _RANK["file"]:
                own[other] = BY_NAME[other].default
                origins[prefix + other] = "default"
    _pick_input(own, origins, prefix)
    return own


def _one_input_for_many(cli: Mapping[str, Any], environ_values: Mapping[str, Any], count: int) -> None:
    if count < 2:
        return
    for name in ("source", "camera"):
        if name in cli or name in environ_values:
            where = BY_NAME[name].flag if name in cli else BY_NAME[name].env
            raise EdgeAppError(
                f"{where} would set the input of all {count} cameras of the config file",
                "set each camera's source in its [cameras.NAME] table",
            )


def _cameras(
    layer: FileLayer, values: dict[str, Any], origins: dict[str, str], file: str, flags: tuple[RegionSpec, ...]
) -> tuple[CameraConfig, ...]:
    tables = layer.cameras or {DEFAULT_CAMERA: CameraTable({}, ())}
    if layer.regions and len(tables) > 1:
        raise EdgeAppError(
            f"{file}: top-level [regions] with {len(tables)} cameras: whose are they?",
            "put them under their camera, as [cameras.NAME.regions.RNAME]",
        )
    cameras = []
    sections = {section.name: section for section in SECTIONS}
    for index, (name, table) in enumerate(tables.items()):
        own = _camera_values(name, table, values, origins, file) if layer.cameras else dict(values)
        if not layer.cameras:
            _pick_input(own, origins)
        extra = (*layer.regions, *flags) if index == 0 else ()
        try:
            regions = check_unique((*table.regions, *extra))
        except EdgeAppError as exc:
            raise EdgeAppError(f"camera {name}: {exc.message}", exc.hint) from None
        merged = {**values, **own}
        cameras.append(
            CameraConfig(
                name,
                build(SourceConfig, sections["source"].keys, merged),
                build(ModelConfig, sections["model"].keys, merged),
                regions,
            )
        )
    if not layer.cameras:
        values.update(own)
    return tuple(cameras)


def region_flags(texts: Sequence[str] | None) -> tuple[RegionSpec, ...]:
    """`--region NAME=x0,y0,x1,y1`, repeatable: regions of the first camera."""
    try:
        return tuple(parse_flag(text) for text in texts or ())
    except EdgeAppError as exc:
        raise EdgeAppError(f"{COMMAND_LINE}: {exc.message}", exc.hint or "see edge-app run --help") from None


def resolve(
    cli: Mapping[str, Any] | None = None,
    config: Path | None = None,
    environ: Mapping[str, str] | None = None,
    warn: Callable[[str], None] | None = warn,
    regions: Sequence[str] | None = None,
) -> Settings:
    """Merge defaults < file < environment < command line, every value checked. `warn` hears of
    unknown EDGE_APP_* variables and moved keys (None: say nothing, e.g. on a reload: it was
    said at start). `regions`: the --region flags."""
    environ = os.environ if environ is None else environ
    if warn is not None:
        for message in unknown_variables(environ):
            warn(message)
    path = config_file(config, environ)
    values = {key.name: key.default for key in KEYS}
    origins = dict.fromkeys(values, "default")
    file = read_config(path, warn) if path is not None else FileLayer()
    environment, command_line = read_environment(environ), read_command_line(cli or {})
    _one_input_for_many(command_line, environment, len(file.cameras))
    for layer, origin in ((file.values, f"file {path}"), (environment, "env"), (command_line, COMMAND_LINE)):
        for name, value in layer.items():
            values[name] = value
            origins[name] = f"env {BY_NAME[name].env}" if origin == "env" else origin
    cameras = _cameras(file, values, origins, f"file {path}", region_flags(regions))
    sections = {
        section.name: file.tables.get(section.name) or build(section.config, section.keys, values)
        for section in SECTIONS
    }
    return Settings(sections, cameras, origins=origins, config_path=path)
