"""USB webcams (and other V4L2 cameras) by index, through OpenCV.

The index is the N of /dev/videoN (`edge-app info` lists them). OpenCV's V4L2 backend has no
per-read timeout property; its wait for a frame is bounded process-wide by
OPENCV_VIDEOIO_V4L_SELECT_TIMEOUT (see `_opencv.V4L2_SELECT_TIMEOUT_S`).
"""

from __future__ import annotations

import sys
import time

import cv2
import numpy as np

from edge_app.frames import ChannelOrder
from edge_app.sources._opencv import CaptureSource, container_fps, read_frame
from edge_app.sources.base import SourceError
from edge_app.sources.spec import SourceSpec

USB2_RAW_BUDGET = 20e6  # bytes/s of uncompressed video a USB 2 webcam can usually deliver
DEFAULT_FPS = 30.0


def wants_mjpg(resolution: tuple[int, int] | None, fps: float | None) -> bool:
    """Raw YUYV costs 2 bytes a pixel; when that exceeds USB 2, ask the camera for MJPEG.

    Below that, raw frames are better: no JPEG decoding on the Pi's CPU.
    """
    if resolution is None:
        return False
    width, height = resolution
    return width * height * 2 * (fps or DEFAULT_FPS) > USB2_RAW_BUDGET


def _api() -> int:
    return cv2.CAP_V4L2 if sys.platform.startswith("linux") else cv2.CAP_ANY


class OpenCVCamera(CaptureSource):
    """A webcam at `resolution` and `fps` when the camera offers them (else its nearest mode)."""

    live = True
    order: ChannelOrder = "bgr"

    def __init__(self, index: int, resolution: tuple[int, int] | None = None, fps: float | None = None) -> None:
        self.index = index
        self.resolution = resolution
        self.requested_fps = fps
        self.name = f"opencv:{index}"
        self.actual_size: tuple[int, int] | None = None  # what the camera agreed to
        self._first: np.ndarray | None = None

    @property
    def device(self) -> str:
        return f"/dev/video{self.index}" if sys.platform.startswith("linux") else f"camera {self.index}"

    def open(self) -> None:
        self.close()
        capture = cv2.VideoCapture(self.index, _api())
        try:
            if not capture.isOpened():
                raise SourceError(
                    f"no camera at {self.device}",
                    "plug it in, or run `edge-app info` to list cameras (a Pi ribbon camera needs --backend picamera2)",
                )
            self._configure(capture)
            first = read_frame(capture)  # a camera busy in another program opens, then sends nothing
            if first is None:
                raise SourceError(
                    f"camera {self.device} opened but sent no frame",
                    "close any other program using it (one program per camera) or replug it",
                )
        except BaseException:
            capture.release()
            raise
        self._capture, self._first = capture, first

    def _configure(self, capture: cv2.VideoCapture) -> None:
        """Format first, then size, then rate: V4L2 renegotiates on each, in that dependency order."""
        if wants_mjpg(self.resolution, self.requested_fps):
            capture.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter.fourcc(*"MJPG"))
        if self.resolution:
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, self.resolution[0])
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self.resolution[1])
        if self.requested_fps:
            capture.set(cv2.CAP_PROP_FPS, self.requested_fps)
        capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # the newest frame, not one queued seconds ago
        self._fps = container_fps(capture) or self.requested_fps
        self.actual_size = (int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))

    def read(self) -> np.ndarray:
        capture = self._opened()
        if self._first is not None:
            first, self._first = self._first, None
            return first
        started = time.monotonic()
        image = read_frame(capture)
        if image is None:
            waited = time.monotonic() - started
            why = f"sent no frame for {waited:.1f} s" if waited >= 1.0 else "stopped (unplugged?)"
            raise SourceError(f"camera {self.device} {why}")
        return image

    def close(self) -> None:
        self._first = None
        super().close()


def from_spec(spec: SourceSpec, target: str) -> OpenCVCamera:
    """`--source /dev/videoN`: that V4L2 device through OpenCV."""
    return OpenCVCamera(int(target.removeprefix("/dev/video")), spec.resolution, spec.fps)
