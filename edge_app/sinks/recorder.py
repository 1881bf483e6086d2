"""`--record PATH`: the annotated video, written on its own thread.

Live, a full queue drops frames (counted) rather than slow the display; in batch mode
(`lossless`) it blocks, so every frame is written. An existing file is never overwritten:
the recording goes to a fresh name next to it, so a service restart never loses data. The
file itself (video_file.py) stays playable if the process dies; a disk that fills up or goes
away mid-recording ends the recording with one line, and the rest of the run goes on. A file
deleted mid-run (its folder removed) is said in one line and the recording starts again afresh.
"""

from __future__ import annotations

import errno
import logging
import math
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from edge_app.errors import EdgeAppError
from edge_app.frames import Frame, Result
from edge_app.mailbox import Mailbox
from edge_app.sink import Sink
from edge_app.sinks.video_file import FORMATS, RecordingDeleted, VideoFile

if TYPE_CHECKING:
    from edge_app.settings.sections.output import OutputConfig
    from edge_app.sinks.registry import SinkContext

log = logging.getLogger("edge_app.recorder")
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)  # at open, too, these end the recording, not the run
DEFAULT_FPS = 30.0

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
        self.written = 0  # frames handed to the encoder
        self.kept = 0  # frames synced to disk: what the file plays
        self.lost = 0  # frames in recordings deleted mid-run
        self._fps = fps
        self._queue: Mailbox[np.ndarray] = Mailbox(queue_size)  # made again at start, lossless in batch mode
        self._closing = False
        self._thread: threading.Thread | None = None
        self._size: tuple[int, int] | None = None
        self._error: EdgeAppError | None = None
        self._given_up = False  # the disk refused a write: recording ended, the run goes on
        self._reported = False  # the error reached the pipeline (raised from frame())

    @property
    def dropped(self) -> int:
        """Frames the writer was too slow for (live), or left unwritten at a live close."""
        return self._queue.dropped

    def start(self, stop: threading.Event, lossless: bool = False) -> None:
        self._queue = Mailbox(self._queue.maxsize, lossless)
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
        self._queue.put(image)
        self._raise_failure()

    def _raise_failure(self) -> None:
        """A writer that failed stops the run with one line (the pipeline exits 2 on EdgeAppError)."""
        if self._error is not None:
            self._reported = True
            raise self._error

    def _write_all(self) -> None:
        import cv2

        video: VideoFile | None = None
        try:
            while (image := self._queue.get()) is not None:
                if video is None:
                    video = self._open_video()
                    if video is None:
                        return
                if (image.shape[1], image.shape[0]) != self._size:  # a card, or a stream that changed size
                    image = cv2.resize(image, self._size, interpolation=cv2.INTER_AREA)
                try:
                    video.write(image)
                except RecordingDeleted:
                    video = self._reopen(video)
                    if video is None:
                        return
                    video.write(image)
                self.written += 1
                self.kept = video.synced
            if video is not None:
                deleted = video.deleted()
                video.close()
                self.kept = 0 if deleted else video.synced
                if deleted:
                    self._deleted(video, "")
        except Exception as exc:  # noqa: BLE001 - OSError (full disk, stick pulled) or an FFmpeg error
            self._give_up(exc, video)
        finally:
            self._queue.close()  # a writer that ended takes nothing more: a batch put must not wait for it

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

    def _reopen(self, video: VideoFile) -> VideoFile | None:
        """The file was deleted under us: one line, and a fresh file at the same place (its folder
        made again); a folder that cannot be made ends the recording, not the run."""
        video.abandon()
        self._deleted(video, "; recording again from now on")
        self.written = self.kept = 0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path = fresh_path(self.path, datetime.now())
        except OSError as exc:
            self._give_up(exc, None)
            return None
        return self._open_video()

    def _deleted(self, video: VideoFile, then: str) -> None:
        self.lost += video.written
        log.warning(
            "recording: %s was deleted while recording (its folder removed?); its %d frames are lost%s",
            self.path,
            video.written,
            then,
        )

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
        self._queue.close(discard=True)

    def _fail(self, message: str) -> None:
        self._error = EdgeAppError(message, "choose a writable --record path")

    def close(self, timeout: float = 2.0) -> None:
        """Live: drop the backlog so the file is finalised promptly; batch: write all of it."""
        if self._thread is None:
            return
        self._closing = True
        if self._queue.lossless:
            self._queue.close()
            self._thread.join()  # every frame must be written (a writer that died has closed it too)
        else:
            self._queue.close(discard=True)
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
        return len(self._queue)


def from_config(config: OutputConfig, context: SinkContext) -> RecorderSink:
    """The rate is asked on the first frame: a file knows its own only once open."""
    assert config.record is not None
    return RecorderSink(config.record, context.source_fps)
