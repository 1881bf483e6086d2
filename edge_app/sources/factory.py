"""From what the user typed (--camera / --source / --backend ...) to a Source, not yet opened.

Cheap to import (no numpy, cv2 or picamera2): each source module is imported only when chosen,
and settings validates --resolution with parse_resolution from here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from edge_app.errors import EdgeAppError
from edge_app.sources.urls import is_url

if TYPE_CHECKING:  # base imports numpy; settings imports this module and must stay light
    from edge_app.sources.base import Source

Backend = Literal["auto", "picamera2", "opencv"]
BACKENDS = ("auto", "picamera2", "opencv")
DEFAULT_RESOLUTION = (640, 480)
DEFAULT_SYNTHETIC_FPS = 30.0
MAX_SIDE = 8192
_RESOLUTION = re.compile(r"\s*(\d{1,5})\s*[xX×*]\s*(\d{1,5})\s*")
_VIDEO_DEVICE = re.compile(r"/dev/video(\d+)")


def parse_resolution(text: str) -> tuple[int, int]:
    """"640x480" -> (640, 480)."""
    match = _RESOLUTION.fullmatch(str(text))
    if not match:
        raise EdgeAppError(f"bad resolution {text!r}", "write WIDTHxHEIGHT, e.g. 640x480")
    width, height = int(match.group(1)), int(match.group(2))
    if not (16 <= width <= MAX_SIDE and 16 <= height <= MAX_SIDE):
        raise EdgeAppError(f"resolution {width}x{height} is out of range", f"use 16 to {MAX_SIDE} pixels a side, e.g. 640x480")
    return width, height


@dataclass(frozen=True)
class SourceSpec:
    """Where frames come from. Exactly one of `camera` and `source`; neither means camera 0."""

    camera: int | None = None
    backend: Backend = "auto"
    source: str | None = None  # "synthetic", a folder, a URL, /dev/videoN, or a video file
    resolution: tuple[int, int] | None = None  # cameras, synthetic, slideshow; files keep their own
    fps: float | None = None  # cameras: requested rate; synthetic: frame rate; slideshow: photos per second


def _check(spec: SourceSpec) -> None:
    if spec.camera is not None and spec.source is not None:
        raise EdgeAppError("both a camera and a source were given", "use --camera N for a camera, or --source for a file, URL or folder, not both")
    if spec.source is not None and not spec.source.strip():
        raise EdgeAppError("the source is empty", "give a file, folder, URL or 'synthetic', or use --camera N")
    if spec.backend not in BACKENDS:
        raise EdgeAppError(f"unknown camera backend {spec.backend!r}", "use auto, picamera2 or opencv")
    if spec.camera is not None and spec.camera < 0:
        raise EdgeAppError(f"camera index {spec.camera} is negative", "use 0 for the first camera")
    if spec.fps is not None and not spec.fps > 0:
        raise EdgeAppError(f"fps must be positive, not {spec.fps:g}", "e.g. --fps 30, or --fps 0.5 for a slideshow")


def open_source(spec: SourceSpec) -> Source:
    """The Source `spec` describes, constructed but not opened (open() may fail and be retried).

    A missing file or an empty folder is an EdgeAppError here already, before a model loads.
    """
    _check(spec)
    if spec.source is None:
        return _camera(spec.camera or 0, spec)
    text = spec.source.strip()
    if text.lower().startswith("file://"):
        text = text[len("file://") :]
    resolution = spec.resolution or DEFAULT_RESOLUTION
    if text.lower() == "synthetic":
        from edge_app.sources.synthetic import SyntheticSource

        return SyntheticSource(resolution, spec.fps or DEFAULT_SYNTHETIC_FPS)
    if is_url(text):
        from edge_app.sources.video import StreamSource

        return StreamSource(text)
    device = _VIDEO_DEVICE.fullmatch(text)
    if device:
        from edge_app.sources.opencv_camera import OpenCVCamera

        return OpenCVCamera(int(device.group(1)), spec.resolution, spec.fps)
    path = Path(text).expanduser()
    if path.is_dir():
        from edge_app.sources.slideshow import SlideshowSource, require_images

        require_images(path)
        return SlideshowSource(path, period=1.0 / spec.fps if spec.fps else 2.0, size=resolution)
    if not path.exists():
        if text.isdigit():
            raise EdgeAppError(f"no file named {text!r}", f"for camera {text} use --camera {text}")
        raise EdgeAppError(f"no file or folder {text}", "check the path; URLs start with rtsp:// or http://, cameras are --camera N")
    from edge_app.sources.video import VideoFileSource

    return VideoFileSource(path)


def choose_backend(backend: Backend, csi: bool) -> Literal["picamera2", "opencv"]:
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

        return PiCameraSource(index, spec.resolution or DEFAULT_RESOLUTION, spec.fps)
    from edge_app.sources.opencv_camera import OpenCVCamera

    return OpenCVCamera(index, spec.resolution, spec.fps)
