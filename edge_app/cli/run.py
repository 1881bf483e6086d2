"""`edge-app run`: the live classifier. Every option can also come from the config file
or an EDGE_APP_* variable; options left out here fall through to those."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from edge_app.cli import options as opt

INPUT = "Input"
OUTPUT = "Output"


def run(
    config: Annotated[Optional[Path], typer.Option("--config", "-c", help="TOML config file (default: /etc/edge-app/config.toml if it exists).")] = None,
    model: opt.Model = None,
    labels: opt.Labels = None,
    runtime: Annotated[Optional[str], typer.Option("--runtime", help="auto | litert | tflite_runtime | tensorflow.")] = None,
    delegate: opt.Delegate = None,
    device: opt.Device = None,
    threads: opt.Threads = None,
    resize: Annotated[Optional[str], typer.Option("--resize", help="crop (central 87.5 %, as in training) | squash | letterbox.")] = None,
    top_k: Annotated[Optional[int], typer.Option("--top-k", "-k", help="Labels shown per result.")] = None,
    threshold: Annotated[Optional[float], typer.Option("--threshold", help="Hide labels scoring below this.")] = None,
    camera: Annotated[Optional[int], typer.Option("--camera", help="Camera index (default 0).", rich_help_panel=INPUT)] = None,
    source: Annotated[Optional[str], typer.Option("--source", "-s", help="Video file, folder of images, rtsp:// or http:// URL, or 'synthetic'.", rich_help_panel=INPUT)] = None,
    backend: Annotated[Optional[str], typer.Option("--backend", help="Camera library: auto | picamera2 | opencv.", rich_help_panel=INPUT)] = None,
    resolution: Annotated[Optional[str], typer.Option("--resolution", help="Capture size WIDTHxHEIGHT (default 640x480).", rich_help_panel=INPUT)] = None,
    fps: Annotated[Optional[float], typer.Option("--fps", help="Camera frame rate or slideshow rate; files use their own.", rich_help_panel=INPUT)] = None,
    rotate: Annotated[Optional[int], typer.Option("--rotate", help="0 | 90 | 180 | 270 degrees.", rich_help_panel=INPUT)] = None,
    flip: Annotated[Optional[bool], typer.Option("--flip/--no-flip", help="Mirror frames horizontally.", show_default=False, rich_help_panel=INPUT)] = None,
    realtime: Annotated[Optional[bool], typer.Option("--realtime/--no-realtime", help="Pace files at their fps (default), or classify every frame as fast as possible.", show_default=False, rich_help_panel=INPUT)] = None,
    http: Annotated[Optional[str], typer.Option("--http", help="Live view at PORT or HOST:PORT (a bare port binds 127.0.0.1).", rich_help_panel=OUTPUT)] = None,
    display: Annotated[Optional[bool], typer.Option("--display/--no-display", help="Show a local window.", show_default=False, rich_help_panel=OUTPUT)] = None,
    events: Annotated[Optional[str], typer.Option("--events", help="Append one JSON line per result to PATH, or - for stdout.", rich_help_panel=OUTPUT)] = None,
    record: Annotated[Optional[str], typer.Option("--record", help="Record the annotated video to PATH (.mp4 or .avi).", rich_help_panel=OUTPUT)] = None,
    overlay: Annotated[Optional[bool], typer.Option("--overlay/--no-overlay", help="Draw labels and stats on the video.", show_default=False, rich_help_panel=OUTPUT)] = None,
    smooth: Annotated[Optional[int], typer.Option("--smooth", help="Average scores over N results so labels do not flicker.", rich_help_panel=OUTPUT)] = None,
    max_frames: Annotated[Optional[int], typer.Option("--max-frames", help="Stop after N frames.", rich_help_panel=OUTPUT)] = None,
    duration: Annotated[Optional[float], typer.Option("--duration", help="Stop after S seconds.", rich_help_panel=OUTPUT)] = None,
    log_level: Annotated[Optional[str], typer.Option("--log-level", help="debug | info | warning | error.")] = None,
    reconnect_max: Annotated[Optional[float], typer.Option("--reconnect-max", help="Longest wait between source reconnects, seconds.")] = None,
) -> None:
    """Classify live video: camera, file, stream or folder, with an annotated live view.

    Example: edge-app run --camera 0 --http 0.0.0.0:8080, then open http://<pi>:8080/
    """
    given = {name: value for name, value in locals().items() if name != "config"}
    from edge_app.app import Runner
    from edge_app.service.journal import setup_logging
    from edge_app.settings import resolve

    settings = resolve(given, config)
    setup_logging(settings.log_level)
    code = Runner(given, config).run(settings)
    if code:
        raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    app.command()(run)
