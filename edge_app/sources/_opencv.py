"""OpenCV capture plumbing shared by the file/stream and webcam sources.

OpenCV and FFmpeg print their own warnings straight to stderr ("can't open camera by index",
"Connection refused"). Our sources turn every failure into one SourceError/EdgeAppError line
instead, so the native chatter is turned down when this module is imported. Set
OPENCV_LOG_LEVEL or OPENCV_FFMPEG_LOGLEVEL yourself to see it again while debugging.
"""

from __future__ import annotations

import math
import os

import cv2
import numpy as np

from edge_app.sources.base import SourceBase, SourceError

# How long OpenCV's V4L2 backend waits for one webcam frame (it ignores CAP_PROP_READ_TIMEOUT_MSEC).
# OpenCV reads this once per process, at the first webcam read; its own default is 10 s.
V4L2_SELECT_TIMEOUT_S = 3


def quiet_opencv() -> None:
    """Silence native warnings, bound webcam waits, prefer RTSP over TCP; the user's own settings win."""
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET; read when FFmpeg is first used
    os.environ.setdefault("OPENCV_VIDEOIO_V4L_SELECT_TIMEOUT", str(V4L2_SELECT_TIMEOUT_S))
    # RTSP over TCP: over Wi-Fi, UDP loses packets and smears frames. Other protocols ignore it.
    os.environ.setdefault("OPENCV_FFMPEG_CAPTURE_OPTIONS", "rtsp_transport;tcp")
    if "OPENCV_LOG_LEVEL" in os.environ:
        return
    logging = getattr(getattr(cv2, "utils", None), "logging", None)
    if logging is not None:
        logging.setLogLevel(logging.LOG_LEVEL_ERROR)
    elif hasattr(cv2, "setLogLevel"):  # older OpenCV 4 releases
        cv2.setLogLevel(2)  # ERROR


quiet_opencv()


def has_ffmpeg() -> bool:
    try:
        return bool(cv2.videoio_registry.hasBackend(cv2.CAP_FFMPEG))
    except AttributeError:  # pragma: no cover - OpenCV without the registry API
        return True


def container_fps(capture: cv2.VideoCapture) -> float | None:
    """The frame rate the file or driver reports, None when it reports nonsense (0, NaN, 90000)."""
    fps = capture.get(cv2.CAP_PROP_FPS)
    return float(fps) if math.isfinite(fps) and 0 < fps <= 1000 else None


def read_frame(capture: cv2.VideoCapture) -> np.ndarray | None:
    ok, image = capture.read()
    return image if ok and image is not None and image.size else None


class CaptureSource(SourceBase):
    """A source around one cv2.VideoCapture: the not-open check and an idempotent close."""

    _capture: cv2.VideoCapture | None = None

    def _opened(self) -> cv2.VideoCapture:
        if self._capture is None:
            raise SourceError(f"{self.name} is not open")
        return self._capture

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None
