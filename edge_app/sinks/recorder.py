"""`--record PATH`: the annotated video, written on its own thread.

Live, a full queue drops frames (counted) rather than slow the display; in batch mode
(`lossless`) it blocks, so every frame is written. An existing file is never overwritten.
"""

from __future__ import annotations

import logging
import queue
import threading
from pathlib import Path

import numpy as np

from edge_app.errors import EdgeAppError
from edge_app.frames import Frame, Result
from edge_app.sinks.base import Sink

log = logging.getLogger("edge_app.recorder")
FOURCC = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".avi": "MJPG", ".mkv": "MJPG"}
_END = None


class RecorderSink(Sink):
    def __init__(self, path: str, fps: float | None, queue_size: int = 30) -> None:
        self.path = Path(path).expanduser()
        self.fps = fps or 30.0
        self.dropped = 0
        self.written = 0
        self._queue: queue.Queue[np.ndarray | None] = queue.Queue(queue_size)
        self._lossless = False
        self._thread: threading.Thread | None = None
        self._size: tuple[int, int] | None = None
        suffix = self.path.suffix.lower()
        if suffix not in FOURCC:
            raise EdgeAppError(f"cannot record to {self.path.name}: unknown video type {suffix or '(none)'}", f"use one of: {', '.join(FOURCC)}")
        if self.path.exists():
            raise EdgeAppError(f"{self.path} already exists", "choose a new --record path (edge-app never overwrites a recording)")

    def start(self, stop: threading.Event, lossless: bool = False) -> None:
        import cv2

        self._lossless = lossless
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise EdgeAppError(f"cannot create {self.path.parent} ({exc.strerror})", "choose a writable --record path") from None
        self._fourcc = cv2.VideoWriter_fourcc(*FOURCC[self.path.suffix.lower()])
        self._thread = threading.Thread(target=self._write_all, name="edge-app-recorder", daemon=True)
        self._thread.start()

    def frame(self, image: np.ndarray, frame: Frame, result: Result | None) -> None:
        if self._size is None:
            self._size = (image.shape[1], image.shape[0])
        if (image.shape[1], image.shape[0]) != self._size:
            return  # a stream that changed size mid-run; the file keeps the first size
        if self._lossless:  # batch: wait for the writer, unless it has died
            while self._thread is not None and self._thread.is_alive():
                try:
                    self._queue.put(image, timeout=0.5)
                    return
                except queue.Full:
                    continue
            return
        try:
            self._queue.put_nowait(image)
        except queue.Full:
            self.dropped += 1

    def _write_all(self) -> None:
        import cv2

        writer = None
        try:
            while (image := self._queue.get()) is not _END:
                if writer is None:
                    writer = cv2.VideoWriter(str(self.path), self._fourcc, self.fps, (image.shape[1], image.shape[0]))
                    if not writer.isOpened():
                        log.error("cannot open %s for recording", self.path)
                        return
                writer.write(image)
                self.written += 1
        finally:
            if writer is not None:
                writer.release()

    def close(self, timeout: float = 2.0) -> None:
        if self._thread is None:
            return
        try:
            self._queue.put(_END, timeout=timeout)
        except queue.Full:
            log.warning("recorder is behind; the last frames of %s are lost", self.path)
        self._thread.join(timeout)
        if self.dropped:
            log.info("recorded %d frames to %s (%d dropped to keep up)", self.written, self.path, self.dropped)
