"""Resolving the settings: defaults < config file < EDGE_APP_* environment < command line.

Each value is checked (type, choices, range) and parsed exactly once, by the parser of the
module that will use it, and remembers where it came from.
"""

from __future__ import annotations

import difflib
import math
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from edge_app.errors import EdgeAppError, warn
from edge_app.paths import SYSTEM_CONFIG
from edge_app.settings.schema import BY_NAME, ENV_PREFIX, KEYS, OTHER_ENV, SECTIONS, Key, Settings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

COMMAND_LINE = "command line"


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
    if key.kind is str and isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # `http = 8080` in a file means what `--http 8080` does
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


def read_config_file(path: Path) -> dict[str, Any]:
    """The file's keys, flattened, each validated; unknown sections and keys are errors."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))  # -sig: a BOM from Windows Notepad is fine
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
    where = f"config file {path}"
    flat: dict[str, Any] = {}
    for section, table in data.items():
        if section not in SECTIONS or not isinstance(table, dict):
            hint = f"sections are [{'], ['.join(SECTIONS)}]"
            raise EdgeAppError(
                f"{where}: unknown section [{section}]"
                if isinstance(table, dict)
                else f"{where}: {section} must be inside a section",
                hint,
            )
        for name, raw in table.items():
            key = BY_NAME.get(name)
            if key is None or key.section != section:
                known = ", ".join(k.name for k in KEYS if k.section == section)
                raise EdgeAppError(f"{where}: unknown key {name!r} in [{section}]", f"known keys there: {known}")
            flat[name] = coerce(key, raw, where, f"[{section}] {name}")
    return flat


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


def _pick_input(values: dict[str, Any], origins: dict[str, str]) -> None:
    """`camera` and `source` are two ways to name the input: the one set at the higher level wins."""
    if values["source"] is None:
        return
    camera_rank = _RANK[origins["camera"].split()[0]]
    source_rank = _RANK[origins["source"].split()[0]]
    if camera_rank == source_rank and camera_rank > 0:
        raise EdgeAppError(
            f"both camera and source are set ({origins['source']})",
            "set only one: camera = N for a camera, source = ... for a file, URL or folder",
        )
    if camera_rank > source_rank:
        values["source"] = None
        origins["source"] = f"overridden by camera ({origins['camera']})"


def resolve(
    cli: Mapping[str, Any] | None = None,
    config: Path | None = None,
    environ: Mapping[str, str] | None = None,
    warn: Callable[[str], None] | None = warn,
) -> Settings:
    """Merge defaults < file < environment < command line, every value checked. `warn` hears of
    unknown EDGE_APP_* variables (None: say nothing, e.g. on a reload: it was said at start)."""
    environ = os.environ if environ is None else environ
    if warn is not None:
        for message in unknown_variables(environ):
            warn(message)
    path = config_file(config, environ)
    values = {key.name: key.default for key in KEYS}
    origins = dict.fromkeys(values, "default")
    layers = (
        (read_config_file(path) if path is not None else {}, f"file {path}"),
        (read_environment(environ), "env"),
        (read_command_line(cli or {}), COMMAND_LINE),
    )
    for layer, origin in layers:
        for name, value in layer.items():
            values[name] = value
            origins[name] = f"env {BY_NAME[name].env}" if origin == "env" else origin
    _pick_input(values, origins)
    return Settings(**values, origins=origins, config_path=path)
