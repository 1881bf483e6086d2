"""Settings for `edge-app run`: one schema, four layers.

Precedence: command line, then EDGE_APP_* environment variables, then the TOML config file,
then defaults. Everything is validated before anything starts, and every value remembers
where it came from (`edge-app config show`).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from edge_app.errors import EdgeAppError
from edge_app.model.delegate import DELEGATE_MODES, check_device
from edge_app.model.runtime import RUNTIMES
from edge_app.sinks.http_address import parse_address
from edge_app.sources.factory import BACKENDS, parse_resolution
from edge_app.sources.orient import ROTATIONS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SYSTEM_CONFIG = Path("/etc/edge-app/config.toml")
ENV_PREFIX = "EDGE_APP_"
# edge_app.model.preprocess.RESIZE_MODES, copied: preprocess imports cv2, and `config show` must stay
# instant. tests/test_settings.py keeps the two equal.
RESIZE_MODES = ("crop", "squash", "letterbox")


@dataclass(frozen=True)
class Key:
    name: str
    section: str
    kind: type  # str, int, float or bool
    default: Any
    help: str
    choices: tuple[Any, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    optional: bool = False  # None is a valid value ("not set")
    check: Callable[[str], EdgeAppError | None] | None = None  # the parser's complaint, or None

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name.upper()

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


def _parsed_by(parse: Callable[[str], object]) -> Callable[[str], EdgeAppError | None]:
    """A check that asks the module that will use the value: one rule, one wording."""

    def check(value: str) -> EdgeAppError | None:
        try:
            parse(value)
        except EdgeAppError as exc:
            return exc
        return None

    return check


KEYS: tuple[Key, ...] = (
    # [model]
    Key("model", "model", str, None, "catalog name or .tflite path; unset = the catalog's default model", optional=True),
    Key("labels", "model", str, None, "label file; unset = the labels embedded in the model", optional=True),
    Key("runtime", "model", str, "auto", "TFLite runtime", ("auto", *RUNTIMES)),
    Key("delegate", "model", str, None, "where inference runs; unset = auto, silent when no Coral is attached", DELEGATE_MODES, optional=True),
    Key("device", "model", str, None, "which Edge TPU: usb, usb:N, pci, pci:N", optional=True, check=_parsed_by(check_device)),
    Key("threads", "model", int, None, "interpreter threads; unset = every core", minimum=1, optional=True),
    Key("resize", "model", str, "crop", "how frames are fitted to the model input", RESIZE_MODES),
    Key("top_k", "model", int, 3, "labels shown per result", minimum=1, maximum=20),
    Key("threshold", "model", float, 0.0, "hide labels scoring below this", minimum=0.0, maximum=1.0),
    # [source]
    Key("camera", "source", int, 0, "camera index (used unless `source` is set)", minimum=0),
    Key("source", "source", str, None, "video file, folder of images, rtsp:// or http:// URL, or 'synthetic'", optional=True),
    Key("backend", "source", str, "auto", "camera library", BACKENDS),
    Key("resolution", "source", str, "640x480", "capture size, WIDTHxHEIGHT", check=_parsed_by(parse_resolution)),
    Key("fps", "source", float, None, "camera frame rate / slideshow rate; files use their own", minimum=0.01, maximum=240.0, optional=True),
    Key("rotate", "source", int, 0, "rotate frames by this many degrees", ROTATIONS),
    Key("flip", "source", bool, False, "mirror frames horizontally"),
    Key("realtime", "source", bool, True, "pace files at their own fps; false = classify every frame as fast as possible"),
    # [output]
    Key("http", "output", str, None, "serve the live view at PORT or HOST:PORT (a bare port binds 127.0.0.1; 0.0.0.0:PORT for the LAN); with no output set at all, it is 127.0.0.1:8080", optional=True, check=_parsed_by(parse_address)),
    Key("display", "output", bool, False, "show a local window (needs OpenCV with GUI and a screen)"),
    Key("events", "output", str, None, "write one JSON line per result to this file, or - for stdout", optional=True),
    Key("record", "output", str, None, "record the annotated video to this file (.mp4 or .avi)", optional=True),
    Key("overlay", "output", bool, True, "draw labels and stats onto the video"),
    Key("smooth", "output", int, 1, "average scores over this many results, so labels do not flicker", minimum=1, maximum=100),
    Key("max_frames", "output", int, None, "stop after this many frames", minimum=1, optional=True),
    Key("duration", "output", float, None, "stop after this many seconds", minimum=0.0, optional=True),
    # [service]
    Key("log_level", "service", str, "info", "logging detail", ("debug", "info", "warning", "error")),
    Key("reconnect_max", "service", float, 10.0, "longest wait between source reconnect attempts, seconds", minimum=0.1, maximum=300.0),
)
BY_NAME = {key.name: key for key in KEYS}
SECTIONS = tuple(dict.fromkeys(key.section for key in KEYS))
NOT_SETTINGS = {"EDGE_APP_CONFIG", "EDGE_APP_MODELS", "EDGE_APP_CATALOG", "EDGE_APP_MODEL_MIRROR", "EDGE_APP_REQUIRE_TOOLS"}


@dataclass(frozen=True)
class Settings:
    values: Mapping[str, Any]
    origins: Mapping[str, str]  # "default", "file PATH", "env NAME", "command line"
    config_path: Path | None = None

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def resolution_wh(self) -> tuple[int, int]:
        return parse_resolution(self.values["resolution"])


@dataclass
class _Layers:
    values: dict[str, Any] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)


def _fail(where: str, key: str, problem: str, hint: str = "") -> EdgeAppError:
    """`hint`: the parser's own advice, when a parser found the problem."""
    if not hint:
        hint = "see edge-app run --help" if where == "command line" else "fix it, or see `edge-app config init` for every key and its allowed values"
    return EdgeAppError(f"{where}: {key} {problem}", hint)


def _coerce(key: Key, raw: Any, where: str, label: str, text: bool = False) -> Any:
    """Turn a raw value into the key's type, checked. Only environment values (`text`) are parsed
    from strings: in TOML, `flip = "yes"` is a mistake, not a boolean."""
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
    if key.choices and value not in key.choices:
        raise _fail(where, label, f"must be one of {', '.join(map(str, key.choices))}, not {value!r}")
    if key.minimum is not None and value < key.minimum:
        raise _fail(where, label, f"must be at least {key.minimum:g}, not {value!r}")
    if key.maximum is not None and value > key.maximum:
        raise _fail(where, label, f"must be at most {key.maximum:g}, not {value!r}")
    problem = key.check(value) if key.check else None
    if problem is not None:
        raise _fail(where, f"{label}:", problem.message, problem.hint)
    return value


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


def config_file(explicit: Path | None, environ: Mapping[str, str]) -> Path | None:
    """--config, else $EDGE_APP_CONFIG, else /etc/edge-app/config.toml when it exists."""
    if explicit is not None:
        return explicit
    if environ.get("EDGE_APP_CONFIG"):
        return Path(environ["EDGE_APP_CONFIG"])
    return SYSTEM_CONFIG if SYSTEM_CONFIG.is_file() else None


def read_config_file(path: Path) -> dict[str, Any]:
    """The file's keys, flattened, each validated; unknown sections and keys are errors."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EdgeAppError(f"config file {path} not found", "create one with: edge-app config init " + str(path)) from None
    except OSError as exc:
        raise EdgeAppError(f"cannot read config file {path} ({exc.strerror})", "check its permissions") from None
    except tomllib.TOMLDecodeError as exc:
        raise EdgeAppError(f"config file {path} is not valid TOML: {exc}", "fix the syntax (see `edge-app config init`)") from None
    where = f"config file {path}"
    flat: dict[str, Any] = {}
    for section, table in data.items():
        if section not in SECTIONS or not isinstance(table, dict):
            hint = f"sections are [{'], ['.join(SECTIONS)}]"
            raise EdgeAppError(f"{where}: unknown section [{section}]" if isinstance(table, dict) else f"{where}: {section} must be inside a section", hint)
        for name, raw in table.items():
            key = BY_NAME.get(name)
            if key is None or key.section != section:
                known = ", ".join(k.name for k in KEYS if k.section == section)
                raise EdgeAppError(f"{where}: unknown key {name!r} in [{section}]", f"known keys there: {known}")
            flat[name] = _coerce(key, raw, where, f"[{section}] {name}")
    return flat


def read_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    values = {}
    for key in KEYS:
        if key.env in environ:
            values[key.name] = _coerce(key, environ[key.env], "environment", key.env, text=True)
    return values


def resolve(
    cli: Mapping[str, Any] | None = None,
    config: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Merge defaults < file < environment < command line (CLI values of None mean "not given")."""
    environ = os.environ if environ is None else environ
    path = config_file(config, environ)
    layers = _Layers()
    for key in KEYS:
        layers.values[key.name] = key.default
        layers.origins[key.name] = "default"
    file_values = read_config_file(path) if path is not None else {}
    _apply(layers, file_values, f"file {path}")
    _apply(layers, read_environment(environ), "env")
    given = {name: value for name, value in (cli or {}).items() if value is not None}
    unknown = set(given) - set(BY_NAME)
    if unknown:
        raise ValueError(f"not settings: {sorted(unknown)}")  # a programming error, not a user's
    _apply(layers, {name: _coerce(BY_NAME[name], value, "command line", BY_NAME[name].flag) for name, value in given.items()}, "command line")
    _pick_input(layers)
    return Settings(dict(layers.values), dict(layers.origins), path)


def _apply(layers: _Layers, values: Mapping[str, Any], origin: str) -> None:
    for name, value in values.items():
        layers.values[name] = value
        layers.origins[name] = f"env {BY_NAME[name].env}" if origin == "env" else origin


_RANK = {"default": 0, "file": 1, "env": 2, "command": 3}


def _pick_input(layers: _Layers) -> None:
    """`camera` and `source` are two ways to name the input: the one set at the higher level wins."""
    if layers.values["source"] is None:
        return
    camera_rank = _RANK[layers.origins["camera"].split()[0]]
    source_rank = _RANK[layers.origins["source"].split()[0]]
    if camera_rank == source_rank and camera_rank > 0:
        where = layers.origins["source"]
        raise EdgeAppError(f"both camera and source are set ({where})", "set only one: camera = N for a camera, source = ... for a file, URL or folder")
    if camera_rank > source_rank:
        layers.values["source"] = None
        layers.origins["source"] = f"overridden by camera ({layers.origins['camera']})"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


def default_config_text() -> str:
    """A config file with every key commented out at its default, and what it does."""
    lines = [
        "# edge-app configuration (TOML).",
        "# Precedence: command line > EDGE_APP_* environment variables > this file > defaults.",
        "# Uncomment a line to change it. `edge-app config show` prints the effective settings.",
        "# The service reloads this file on SIGHUP: sudo systemctl reload edge-app",
    ]
    for section in SECTIONS:
        lines += ["", f"[{section}]"]
        for key in (k for k in KEYS if k.section == section):
            allowed = f" ({' | '.join(map(str, key.choices))})" if key.choices else ""
            lines.append(f"# {key.help}{allowed}; env {key.env}, flag {key.flag}")
            example = key.default if key.default is not None else _example(key)
            lines.append(f"# {key.name} = {_toml_value(example)}")
    return "\n".join(lines) + "\n"


def _example(key: Key) -> Any:
    return {
        "model": "tf2_mobilenet_v2_1.0_224_ptq",
        "labels": "/etc/edge-app/labels.txt",
        "delegate": "auto",
        "device": "usb",
        "threads": 4,
        "source": "rtsp://camera.local/stream",
        "fps": 30.0,
        "http": "0.0.0.0:8080",
        "events": "/var/lib/edge-app/events.jsonl",
        "record": "/var/lib/edge-app/recording.mp4",
        "max_frames": 1000,
        "duration": 60.0,
    }.get(key.name, key.default)


def describe(settings: Settings) -> list[tuple[str, str, str]]:
    """(section.key, value, origin) rows for `edge-app config show`."""
    return [
        (f"{key.section}.{key.name}", _toml_value(settings.values[key.name]) if settings.values[key.name] is not None else "(unset)", settings.origins[key.name])
        for key in KEYS
    ]
