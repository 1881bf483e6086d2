"""Every setting of `edge-app run`, declared once as a typed field of `Settings`.

A field's metadata (a `Key`) says everything the rest needs: its config section, help text,
allowed values, how text becomes the value and back, and how it appears on the command line.
The CLI options, the config file template, `config show` and the environment variables are all
derived from here, so adding a setting is one field.
"""

from __future__ import annotations

import sys
import typing
from collections.abc import Callable, Mapping
from dataclasses import MISSING, Field, dataclass, field, fields
from pathlib import Path
from typing import Any

from edge_app.address import AUTH_MODES, BindAddress, format_address, parse_address, parse_hosts
from edge_app.fleet.topics import parse_device_id, parse_topic_prefix
from edge_app.fleet.url import MqttUrl, format_mqtt_url, parse_mqtt_url
from edge_app.geometry import RESIZE_MODES
from edge_app.model.delegate import DELEGATE_MODES, check_device
from edge_app.model.options import MAX_THREADS, ModelOptions
from edge_app.model.runtime import RUNTIMES
from edge_app.paths import state_dir
from edge_app.sources.orient import ROTATIONS
from edge_app.sources.spec import BACKENDS, DEFAULT_RESOLUTION, Backend, SourceSpec, format_resolution, parse_resolution

ENV_PREFIX = "EDGE_APP_"
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
DEFAULT_LIVE_VIEW = "127.0.0.1:8080"
INPUT, OUTPUT, MQTT = "Input", "Output", "MQTT and Home Assistant"  # --help panels
_META = "edge_app.key"
YEAR_S = 366 * 24 * 3600.0  # duration's bound: 1e12 s overflows time_t in a wait


@dataclass(frozen=True)
class Key:
    name: str
    section: str
    kind: type  # what a file, variable or flag gives: str, int, float or bool
    default: Any  # the typed value
    help: str
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
    def env(self) -> str:
        return ENV_PREFIX + self.name.upper()

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def text(self, value: Any) -> Any:
        """The value as a config file holds it (resolution (640, 480) -> "640x480")."""
        return self.show(value) if self.show and value is not None else value


def setting(section: str, default: Any, help: str, **meta: Any) -> Any:
    """A Settings field with its Key metadata (name, kind and optionality come from the field)."""
    return field(default=default, metadata={_META: dict(section=section, help=help, **meta)})


def _check_device(text: str) -> str | None:
    check_device(text)
    return text


@dataclass(frozen=True)
class Settings:
    """The effective settings of one run, each value typed and checked."""

    # [model]
    model: str | None = setting(
        "model",
        None,
        "Catalog name or .tflite path; unset: the catalog's default model, fetched on first use.",
        short="-m",
        example="tf2_mobilenet_v2_1.0_224_ptq",
    )
    labels: str | None = setting(
        "model",
        None,
        "Label file (one per line, or 'id label'); unset: the labels embedded in the model.",
        example="/etc/edge-app/labels.txt",
    )
    runtime: str = setting("model", "auto", "TFLite runtime.", choices=("auto", *RUNTIMES))
    delegate: str | None = setting(
        "model",
        None,
        "Where inference runs; unset: auto, quiet when no Coral is attached.",
        choices=DELEGATE_MODES,
        example="auto",
    )
    device: str | None = setting(
        "model", None, "Which Edge TPU: usb, usb:N, pci or pci:N.", parse=_check_device, example="usb"
    )
    threads: int | None = setting(
        "model", None, "Interpreter threads; unset: every core.", minimum=1, maximum=MAX_THREADS, example=4
    )
    resize: str = setting(
        "model",
        "crop",
        "How frames are fitted to the model input; crop takes the central 87.5 %, as in training.",
        choices=RESIZE_MODES,
    )
    top_k: int = setting("model", 3, "Labels shown per result.", minimum=1, maximum=20, short="-k")
    teach: bool = setting(
        "model",
        True,
        "Teach new classes from the live view (/api/teach), and run the model taught there, kept in the state dir.",
    )
    threshold: float = setting("model", 0.0, "Hide labels scoring below this.", minimum=0.0, maximum=1.0)
    # [source]
    camera: int = setting("source", 0, "Camera index (used unless a source is set).", minimum=0, panel=INPUT)
    source: str | None = setting(
        "source",
        None,
        "Video file, folder of images, rtsp:// or http:// URL, or 'synthetic'.",
        short="-s",
        panel=INPUT,
        example="rtsp://camera.local/stream",
    )
    backend: str = setting("source", "auto", "Camera library.", choices=BACKENDS, panel=INPUT)
    resolution: tuple[int, int] = setting(
        "source",
        DEFAULT_RESOLUTION,
        "Capture size, WIDTHxHEIGHT.",
        parse=parse_resolution,
        show=format_resolution,
        panel=INPUT,
    )
    fps: float | None = setting(
        "source",
        None,
        "Camera frame rate or slideshow rate (photos a second); files use their own.",
        minimum=0.01,
        maximum=240.0,
        panel=INPUT,
        example=30.0,
    )
    rotate: int = setting("source", 0, "Rotate frames clockwise by this many degrees.", choices=ROTATIONS, panel=INPUT)
    flip: bool = setting("source", False, "Mirror frames horizontally.", panel=INPUT)
    realtime: bool = setting(
        "source", True, "Pace files at their own fps; off: classify every frame as fast as possible.", panel=INPUT
    )
    loop: bool = setting(
        "source",
        False,
        "Start a video file or folder over at its end (a demo that runs on); not with --no-realtime.",
        panel=INPUT,
    )
    # [output]
    http: BindAddress | None = setting(
        "output",
        None,
        "Serve the live view at PORT or HOST:PORT (a bare port binds 127.0.0.1; 0.0.0.0:PORT for the "
        "LAN); with no output set at all, it is " + DEFAULT_LIVE_VIEW + ".",
        parse=parse_address,
        show=format_address,
        panel=OUTPUT,
        example="0.0.0.0:8080",
    )
    http_auth: str = setting(
        "output",
        "token",
        "Who may use the live view: token (any bind but loopback needs the access token; `edge-app token` "
        "shows it), always (loopback too, e.g. behind a reverse proxy), none (anyone who reaches it: "
        "trusted networks only).",
        choices=AUTH_MODES,
        panel=OUTPUT,
    )
    http_hosts: tuple[str, ...] | None = setting(
        "output",
        None,
        "Host names browsers may use for the live view besides this machine's (its addresses, hostname, "
        "hostname.local, localhost), comma-separated: e.g. a DNS name or a reverse proxy's.",
        parse=parse_hosts,
        show=",".join,
        panel=OUTPUT,
        example="cam.example.com",
    )
    tls_cert: str | None = setting(
        "output",
        None,
        "Serve the live view over HTTPS with this PEM certificate (and tls_key).",
        panel=OUTPUT,
        example="/etc/edge-app/cert.pem",
    )
    tls_key: str | None = setting(
        "output", None, "The PEM private key of tls_cert.", panel=OUTPUT, example="/etc/edge-app/key.pem"
    )
    display: bool = setting("output", False, "Show a local window (needs OpenCV with GUI and a screen).", panel=OUTPUT)
    events: str | None = setting(
        "output",
        None,
        "Append one JSON line per result to this file, or - for stdout.",
        panel=OUTPUT,
        example="/var/lib/edge-app/events.jsonl",
    )
    record: str | None = setting(
        "output",
        None,
        "Record the annotated video to this file (.mp4 or .avi).",
        panel=OUTPUT,
        example="/var/lib/edge-app/recording.mp4",
    )
    overlay: bool = setting("output", True, "Draw labels and stats onto the video.", panel=OUTPUT)
    smooth: int = setting(
        "output",
        1,
        "Average scores over this many results, so labels do not flicker.",
        minimum=1,
        maximum=100,
        panel=OUTPUT,
    )
    max_frames: int | None = setting(
        "output", None, "Stop after this many frames.", minimum=1, panel=OUTPUT, example=1000
    )
    duration: float | None = setting(
        "output",
        None,
        "Stop after this many seconds (at most a year; unset: run until stopped).",
        minimum=0.0,
        maximum=YEAR_S,
        panel=OUTPUT,
        example=60.0,
    )
    # [mqtt]
    mqtt: MqttUrl | None = setting(
        "mqtt",
        None,
        "Publish results to this MQTT broker, with Home Assistant discovery: "
        "mqtt://[user[:password]@]host[:port], or mqtts:// for TLS.",
        parse=parse_mqtt_url,
        show=format_mqtt_url,
        panel=MQTT,
        example="mqtt://homeassistant.local",
    )
    mqtt_username: str | None = setting(
        "mqtt", None, "MQTT user name (or put it in the URL).", panel=MQTT, example="edge-app"
    )
    mqtt_password: str | None = setting(
        "mqtt", None, "MQTT password; better: mqtt_password_file.", show=lambda _: "***", panel=MQTT, example="secret"
    )
    mqtt_password_file: str | None = setting(
        "mqtt",
        None,
        "Read the MQTT password from this file (e.g. a systemd credential).",
        panel=MQTT,
        example="/etc/edge-app/mqtt-password",
    )
    mqtt_ca_file: str | None = setting(
        "mqtt",
        None,
        "CA certificate (PEM) that signed the broker's, for mqtts://; unset: the system's CAs.",
        panel=MQTT,
        example="/etc/edge-app/mqtt-ca.pem",
    )
    mqtt_topic_prefix: str | None = setting(
        "mqtt",
        None,
        "Topics go below this; unset: edge-app/<device_id>.",
        parse=parse_topic_prefix,
        panel=MQTT,
        example="edge-app/kitchen",
    )
    mqtt_discovery: bool = setting(
        "mqtt", True, "Publish Home Assistant discovery configs, so the device appears by itself.", panel=MQTT
    )
    mqtt_discovery_prefix: str = setting(
        "mqtt", "homeassistant", "Home Assistant's discovery prefix.", parse=parse_topic_prefix, panel=MQTT
    )
    mqtt_keepalive: int = setting(
        "mqtt",
        60,
        "Seconds between MQTT keepalives; the broker declares the device offline after 1.5 times this.",
        minimum=5,
        maximum=3600,
        panel=MQTT,
    )
    mqtt_qos: int = setting(
        "mqtt", 1, "MQTT quality of service for everything published.", choices=(0, 1, 2), panel=MQTT
    )
    mqtt_interval: float = setting(
        "mqtt",
        30.0,
        "Publish the state at least this often, seconds (and whenever the top label changes).",
        minimum=1.0,
        maximum=3600.0,
        panel=MQTT,
    )
    mqtt_snapshot: bool = setting(
        "mqtt", False, "Also publish a JPEG snapshot (retained) when the top label changes.", panel=MQTT
    )
    device_id: str | None = setting(
        "mqtt",
        None,
        "This device's id in topics and Home Assistant (a-z, 0-9, - and _); unset: the hostname.",
        parse=parse_device_id,
        panel=MQTT,
        example="kitchen",
    )
    # [service]
    log_level: str = setting("service", "info", "Logging detail.", choices=("debug", "info", "warning", "error"))
    reconnect_max: float = setting(
        "service", 10.0, "Longest wait between source reconnect attempts, seconds.", minimum=0.1, maximum=300.0
    )
    state_dir: str | None = setting(
        "service",
        None,
        "Where taught models, examples and the LAN token are kept; unset: the unit's StateDirectory under "
        "systemd, else $XDG_STATE_HOME/edge-app (~/.local/state/edge-app).",
        example="/var/lib/edge-app",
    )

    # Where each value came from ("default", "file PATH", "env NAME", "command line"), and the file read.
    origins: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)
    config_path: Path | None = None

    def value(self, name: str) -> Any:
        return getattr(self, name)

    @property
    def source_spec(self) -> SourceSpec:
        """The input, decided once: the source when one is set, else the camera."""
        backend = typing.cast(Backend, self.backend)  # one of BACKENDS: checked when the value was read
        return SourceSpec(self.source if self.source is not None else self.camera, backend, self.resolution, self.fps)

    @property
    def model_options(self) -> ModelOptions:
        return ModelOptions(
            model=self.model,
            labels=Path(self.labels) if self.labels else None,
            runtime=self.runtime,
            delegate=self.delegate,
            device=self.device,
            threads=self.threads,
            resize=self.resize,
            top_k=self.top_k,
            threshold=self.threshold,
        )

    @property
    def state_path(self) -> Path:
        return state_dir(self.state_dir)

    @property
    def live_view(self) -> BindAddress | None:
        """Where the live view listens: --http, or, with no output chosen at all, the default
        local view (so `edge-app run` always has something to watch)."""
        if self.http is not None:
            return self.http
        if self.events or self.record or self.display:
            return None
        return parse_address(DEFAULT_LIVE_VIEW)

    @property
    def default_live_view(self) -> bool:
        """The view was not asked for: it may move to a free port when the default one is taken."""
        return self.http is None and self.live_view is not None


def _key(f: Field[Any], hint: Any) -> Key:
    args = typing.get_args(hint)
    optional = type(None) in args
    value_type = next((a for a in args if a is not type(None)), hint) if args else hint
    meta = dict(f.metadata[_META])
    kind = str if meta.get("parse") else typing.get_origin(value_type) or value_type
    default = f.default if f.default is not MISSING else None
    return Key(name=f.name, kind=kind, default=default, optional=optional, **meta)


def _keys() -> tuple[Key, ...]:
    hints = typing.get_type_hints(Settings, vars(sys.modules[__name__]))
    return tuple(_key(f, hints[f.name]) for f in fields(Settings) if _META in f.metadata)


KEYS: tuple[Key, ...] = _keys()
BY_NAME: dict[str, Key] = {key.name: key for key in KEYS}
SECTIONS: tuple[str, ...] = tuple(dict.fromkeys(key.section for key in KEYS))
