"""From a SourceSpec to a Source, not yet opened, chosen by kind.

Each kind names how to recognise its target and the module that builds it; the module is
imported only when chosen (cv2 and picamera2 stay unloaded until then). Adding a source is one
module with a `from_spec(spec, target)` function, plus one line in KINDS.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from edge_app.errors import EdgeAppError
from edge_app.sources.spec import BACKENDS, Backend, SourceSpec
from edge_app.sources.urls import STREAM_SCHEMES, is_url, scheme

if TYPE_CHECKING:  # base imports numpy; settings imports this package and must stay light
    from edge_app.sources.base import Source

VIDEO_DEVICE = re.compile(r"/dev/video(\d+)")


@dataclass(frozen=True)
class Kind:
    name: str
    matches: Callable[[str], bool]  # on the source text, after file:// is stripped
    module: str  # defines from_spec(spec: SourceSpec, target: str) -> Source


NAMED = ("synthetic",)  # kinds chosen by a word, not a path
KINDS: tuple[Kind, ...] = (
    Kind("synthetic", lambda text: text.lower() in NAMED, "edge_app.sources.synthetic"),
    Kind("stream", is_url, "edge_app.sources.video"),  # rtsp://, http(s)://, udp:// ...
    Kind("v4l2 device", lambda text: VIDEO_DEVICE.fullmatch(text) is not None, "edge_app.sources.opencv_camera"),
    Kind("folder", lambda text: Path(text).expanduser().is_dir(), "edge_app.sources.slideshow"),
    Kind("video file", lambda text: Path(text).expanduser().exists(), "edge_app.sources.video"),
)


def _check(spec: SourceSpec) -> None:
    if isinstance(spec.target, str) and not spec.target.strip():
        raise EdgeAppError("the source is empty", "give a file, folder, URL or 'synthetic', or use --camera N")
    if spec.backend not in BACKENDS:
        raise EdgeAppError(f"unknown camera backend {spec.backend!r}", "use auto, picamera2 or opencv")
    if spec.camera is not None and spec.camera < 0:
        raise EdgeAppError(f"camera index {spec.camera} is negative", "use 0 for the first camera")
    if spec.fps is not None and not spec.fps > 0:
        raise EdgeAppError(f"fps must be positive, not {spec.fps:g}", "e.g. --fps 30, or --fps 0.5 for a slideshow")


def source_text(target: str) -> str:
    text = target.strip()
    return text[len("file://") :] if text.lower().startswith("file://") else text


def open_source(spec: SourceSpec) -> Source:
    """The Source `spec` describes, constructed but not opened (open() may fail and be retried).

    A missing file or an empty folder is an EdgeAppError here already, before a model loads.
    """
    _check(spec)
    if spec.camera is not None:
        return _camera(spec.camera, spec)
    text = source_text(str(spec.target))
    if is_url(text) and scheme(text) not in STREAM_SCHEMES:
        raise EdgeAppError(
            f"{scheme(text)}:// is not a stream edge-app can read", f"use {', '.join(STREAM_SCHEMES)}, or a file path"
        )
    for kind in KINDS:
        if kind.matches(text):
            return importlib.import_module(kind.module).from_spec(spec, text)
    if text.isdigit():
        raise EdgeAppError(f"no file named {text!r}", f"for camera {text} use --camera {text}")
    close = did_you_mean(text)
    raise EdgeAppError(
        f"no file or folder {text}",
        f"did you mean {close}?"
        if close
        else "check the path; URLs start with rtsp:// or http://, cameras are --camera N",
    )


def did_you_mean(text: str) -> str | None:
    """A typo's likely intent: a kind's name ("synthetc") or a file beside it ("clip.mp5")."""
    import difflib

    word = difflib.get_close_matches(text.lower(), NAMED, n=1, cutoff=0.75)
    if word:
        return word[0]
    typed = text.rstrip("/")
    path = Path(typed).expanduser()
    try:
        siblings = [entry.name for entry in path.parent.iterdir()] if path.name else []
    except OSError:
        return None
    match = difflib.get_close_matches(path.name, siblings, n=1, cutoff=0.8)
    return typed[: len(typed) - len(path.name)] + match[0] if match else None


def choose_backend(backend: Backend, csi: bool) -> Backend:
    """auto: picamera2 when libcamera lists the camera as a CSI (ribbon) camera, else OpenCV."""
    if backend != "auto":
        return backend
    return "picamera2" if csi else "opencv"


def _camera(index: int, spec: SourceSpec) -> Source:
    csi = False
    if spec.backend == "auto":
        from edge_app.sources.discovery import is_csi_camera, picamera2_cameras

        csi = is_csi_camera(index, picamera2_cameras())
    if choose_backend(spec.backend, csi) == "picamera2":
        from edge_app.sources.pi_camera import PiCameraSource

        return PiCameraSource(index, spec.size, spec.fps)
    from edge_app.sources.opencv_camera import OpenCVCamera

    return OpenCVCamera(index, spec.resolution, spec.fps)
