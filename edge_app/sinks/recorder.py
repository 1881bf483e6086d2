"""`--record PATH`: the annotated video, written on its own thread.

Live, a full queue drops frames (counted) rather than slow the display; in batch mode
(`lossless`) it blocks, so every frame is written. An existing file is never overwritten:
the recording goes to a fresh name next to it, so a service restart never loses data. The
file itself (video_file.py) stays playable if the process dies; a disk that fills up or goes
away mid-recording ends the recording with one line, and the rest of the run goes on.
"""

from __future__ import annotations

import errno
import logging
import math
import queue
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from edge_app.errors import EdgeAppError
from edge_app.frames import Frame, Result
from edge_app.sinks.base import Sink
from edge_app.sinks.video_file import FORMATS, VideoFile

if TYPE_CHECKING:
    from edge_app.settings import Settings
    from edge_app.sinks.registry import SinkContext

log = logging.getLogger("edge_app.recorder")
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)  # at open, too, these end the recording, not the run
DEFAULT_FPS = 30.0
WAIT_S = 0.5  # a blocked put re-checks that the writer is still alive this often
_END = None

FpsSpec = Callable[[], float | None] | float | None


def fresh_path(path: Path, now: datetime, exists: Callable[[Path], bool] = Path.exists) -> Path:
    """`path` if free, else `name-YYYYmmdd-HHMMSS.ext`, then `...-1.ext`, `...-2.ext`."""
    if not exists(path):
        return path
    stem = f"{path.stem}-{now:%Y%m%d-%H%M%S}"
    candidate, n = path.with_name(stem + path.suffix), 0
    while exists(candidate):
        n += 1
        candidate = path.with_name(f"{stem}-{n}{path.suffix}")
    return candidate


def resolve_fps(fps: FpsSpec) -> float:
    """The rate to write at; asked late (on the first frame) when callable, since by then the
    source is open and knows its own rate."""
    value = fps() if callable(fps) else fps
    if value is None or not math.isfinite(value) or value <= 0:
        return DEFAULT_FPS
    return float(value)


class RecorderSink(Sink):
    def __init__(self, path: str, fps: FpsSpec, queue_size: int = 30) -> None:
        requested = Path(path).expanduser()
        suffix = requested.suffix.lower()
        if suffix not in FORMATS:
            raise EdgeAppError(
                f"cannot record to {requested.name}: unknown video type {suffix or '(none)'}",
                f"use one of: {', '.join(FORMATS)}",
            )
        try:
            self.path = fresh_path(requested, datetime.now())
        except OSError as exc:  # e.g. a name too long for the file system
            raise EdgeAppError(
                f"cannot record to {requested} ({exc.strerror})", "choose another --record path"
            ) from None
        if self.path != requested:
            log.info("%s already exists; recording to %s", requested, self.path)
        else:
            log.info("recording to %s", self.path)
        self.fps: float | None = None  # known once the first frame opens the writer
        self.dropped = 0
        self.written = 0  # frames handed to the encoder
        self.kept = 0  # frames synced to disk: what the file plays
        self._fps = fps
        self._queue: queue.Queue[np.ndarray | None] = queue.Queue(queue_size)
        self._lossless = False
        self._closing = False
        self._thread: threading.Thread | None = None
        self._size: tuple[int, int] | None = None
        self._error: EdgeAppError | None = None
        self._given_up = False  # the disk refused a write: recording ended, the run goes on
        self._reported = False  # the error reached the pipeline (raised from frame())

    def start(self, stop: threading.Event, lossless: bool = False) -> None:
        self._lossless = lossless
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise EdgeAppError(
                f"cannot create {self.path.parent} ({exc.strerror})", "choose a writable --record path"
            ) from None
        self._thread = threading.Thread(target=self._write_all, name="edge-app-recorder", daemon=True)
        self._thread.start()

    def frame(self, image: np.ndarray, frame: Frame, result: Result | None) -> None:
        self._raise_failure()
        if self._closing or self._given_up or self._thread is None:
            return
        if self._size is None:
            if frame.seq < 0:
                return  # a "no signal" card before any frame: it must not fix the video's size
            self._size = (image.shape[1], image.shape[0])
        if self._lossless:
            self._put_lossless(image)
        else:
            try:
                self._queue.put_nowait(image)
            except queue.Full:
                self.dropped += 1
        self._raise_failure()

    def _raise_failure(self) -> None:
        """A writer that failed stops the run with one line (the pipeline exits 2 on EdgeAppError)."""
        if self._error is not None:
            self._reported = True
            raise self._error

    def _put_lossless(self, item: np.ndarray | None) -> bool:
        """Batch: wait for the writer, unless it has died. True once queued."""
        while self._thread is not None and self._thread.is_alive():
            try:
                self._queue.put(item, timeout=WAIT_S)
                return True
            except queue.Full:
                continue
        return False

    def _write_all(self) -> None:
        import cv2

        video: VideoFile | None = None
        try:
            while (image := self._queue.get()) is not _END:
                if video is None:
                    video = self._open_video()
                    if video is None:
                        return
                if (image.shape[1], image.shape[0]) != self._size:  # a card, or a stream that changed size
                    image = cv2.resize(image, self._size, interpolation=cv2.INTER_AREA)
                video.write(image)
                self.written += 1
                self.kept = video.synced
            if video is not None:
                video.close()
                self.kept = video.synced
        except Exception as exc:  # noqa: BLE001 - OSError (full disk, stick pulled) or an FFmpeg error
            self._give_up(exc, video)

    def _open_video(self) -> VideoFile | None:
        """The file, opened on the first frame (the size and the source's rate are known by then)."""
        self.fps = resolve_fps(self._fps)
        assert self._size is not None
        try:
            if not self.path.parent.is_dir():
                raise FileNotFoundError(errno.ENOENT, "no such folder", str(self.path.parent))
            video = VideoFile(self.path, self._size, self.fps)
        except OSError as exc:
            if exc.errno in DISK_FULL:
                self._give_up(exc, None)
            else:
                self._fail(f"cannot open {self.path} for recording ({exc.strerror or exc})")
            return None
        except Exception as exc:  # noqa: BLE001 - e.g. a PyAV build without any usable encoder
            self._fail(f"cannot open {self.path} for recording ({exc})")
            return None
        log.info("recording %s at %dx%d, %.4g fps", video.description, *video.size, self.fps)
        return video

    def _give_up(self, exc: Exception, video: VideoFile | None) -> None:
        """The disk refused: one line, the file so far kept playable, and the run goes on."""
        self._given_up = True
        if video is not None:
            video.abandon()
        reason = getattr(exc, "strerror", None) or str(exc)
        log.error(
            "recording stopped: cannot write %s (%s); the recording so far (%d frames) is kept, "
            "the rest of the run goes on",
            self.path,
            reason,
            self.kept,
        )
        self._discard_backlog()

    def _fail(self, message: str) -> None:
        self._error = EdgeAppError(message, "choose a writable --record path")

    def close(self, timeout: float = 2.0) -> None:
        """Live: drop the backlog so the file is finalised promptly; batch: write all of it."""
        if self._thread is None:
            return
        self._closing = True
        if self._lossless:
            if self._put_lossless(_END):
                self._thread.join()  # every frame must be written; the writer is alive and finishing
        else:
            self._discard_backlog()
            try:
                self._queue.put(_END, timeout=timeout)
            except queue.Full:
                pass
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("recorder did not finish %s in time; its last second may be missing", self.path)
        if self._error is not None and not self._reported:  # failed on the last frame: nobody saw it
            log.error("%s", self._error)
        elif not self.written:
            log.info("no frames were recorded; %s was not created", self.path)
        elif self.dropped:
            log.info("recorded %d frames to %s (%d dropped to keep up)", self.kept, self.path, self.dropped)

    def wait_finished(self, timeout: float) -> bool:
        """Wait up to `timeout` s for the writer to end; True once it has (or never started)."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def backlog(self) -> int:
        """Frames queued for the writer and not yet taken."""
        return self._queue.qsize()

    def _discard_backlog(self) -> None:
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                return
            self.dropped += 1


def from_settings(settings: Settings, context: SinkContext) -> RecorderSink:
    """The rate is asked on the first frame: a file knows its own only once open."""
    assert settings.record is not None
    return RecorderSink(settings.record, lambda: context.source_fps() or settings.fps)
