"""Video files and network streams (rtsp://, http:// MJPEG, ...) through OpenCV's FFmpeg backend.

FFmpeg reads the multipart MJPEG stream of another edge-app (`http://host:port/stream.mjpg`)
directly, so no separate HTTP client is needed. Streams get open and read timeouts, so a
dead camera or server raises SourceError instead of hanging the capture thread.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import cv2
import numpy as np

from edge_app.errors import EdgeAppError
from edge_app.sources._opencv import CaptureSource, container_fps, has_ffmpeg, read_frame
from edge_app.sources.base import SourceError
from edge_app.sources.spec import SourceSpec
from edge_app.sources.urls import is_url, redact_url

log = logging.getLogger("edge_app.sources")
OPEN_TIMEOUT_S = 10.0
READ_TIMEOUT_S = 5.0


def ended_early(read: int, frame_count: int | None) -> bool:
    """Fewer frames than the container announced, by more than its count's usual imprecision
    (some formats estimate it from the duration): a file cut short, e.g. by a crash mid-copy."""
    return frame_count is not None and frame_count - read > max(2, frame_count // 100)


def _require_ffmpeg() -> None:
    if not has_ffmpeg():
        raise EdgeAppError(
            "this OpenCV build cannot read video (no FFmpeg backend)", "pip install opencv-python-headless"
        )


class VideoFileSource(CaptureSource):
    """A video file, read once from start to end; the pipeline paces it at `fps`."""

    live = False

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.name = f"video:{self.path.name}"
        self.frame_count: int | None = None  # from the container; an estimate for some formats
        self.frames_read = 0
        self._said_truncated = False

    def open(self) -> None:
        if not self.path.is_file():
            what = "is a folder, not a file" if self.path.is_dir() else "does not exist"
            raise EdgeAppError(f"video {self.path} {what}", "check the path, or use --camera N for a camera")
        _require_ffmpeg()
        self.close()
        capture = cv2.VideoCapture(str(self.path), cv2.CAP_FFMPEG)
        if not capture.isOpened():
            capture.release()
            raise EdgeAppError(f"{self.path} is not a video FFmpeg can read", "use an MP4, MKV, AVI, MOV or WebM file")
        self._fps = container_fps(capture)
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        self.frame_count = count if count > 0 else None
        self.frames_read = 0
        self._said_truncated = False
        self._capture = capture

    def read(self) -> np.ndarray | None:
        image = read_frame(self._opened())  # None: the end (FFmpeg skips what it cannot decode)
        if image is not None:
            self.frames_read += 1
        elif ended_early(self.frames_read, self.frame_count) and not self._said_truncated:
            log.warning(
                "%s ended at frame %d of %d: the file looks truncated",
                self.path.name,
                self.frames_read,
                self.frame_count,
            )
            self._said_truncated = True
        return image


class StreamSource(CaptureSource):
    """A live network stream. It never ends: a closed or silent stream is a SourceError."""

    live = True

    def __init__(self, url: str, open_timeout: float = OPEN_TIMEOUT_S, read_timeout: float = READ_TIMEOUT_S) -> None:
        self.url = url
        self.name = f"stream:{redact_url(url)}"
        self.open_timeout = open_timeout
        self.read_timeout = read_timeout

    def open(self) -> None:
        _require_ffmpeg()
        self.close()
        params = [
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
            int(self.open_timeout * 1000),
            cv2.CAP_PROP_READ_TIMEOUT_MSEC,
            int(self.read_timeout * 1000),
        ]
        capture = cv2.VideoCapture(self.url, cv2.CAP_FFMPEG, params)
        if not capture.isOpened():
            capture.release()
            raise SourceError(
                f"cannot open {redact_url(self.url)} (refused, no video within {self.open_timeout:g} s, or not a "
                "video stream)",
                "check the URL and that the camera or server is up",
            )
        self._fps = container_fps(capture)
        self._capture = capture

    def read(self) -> np.ndarray:
        capture = self._opened()
        started = time.monotonic()
        image = read_frame(capture)
        if image is None:
            waited = time.monotonic() - started
            why = f"sent nothing for {waited:.1f} s" if waited >= 0.9 * self.read_timeout else "ended"
            raise SourceError(f"stream {redact_url(self.url)} {why}")
        return image


def from_spec(spec: SourceSpec, target: str) -> VideoFileSource | StreamSource:
    """A URL is a live stream; anything else a video file, read at its own rate."""
    return StreamSource(target) if is_url(target) else VideoFileSource(Path(target).expanduser())
