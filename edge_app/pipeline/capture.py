"""Source -> numbered, timestamped frames, surviving a source that fails.

A live source that raises, returns nothing, or returns garbage is closed and reopened with
capped exponential backoff; the outage is visible in `SourceHealth` meanwhile. Files and
synthetic feeds are paced at their own rate in real-time mode. A file or folder ends the run at
its end, or with `loop` is reopened from its start, numbering and pacing carrying on. Without
real time (batch), a picture a source holds for the display (a slideshow photo) is passed on once.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from edge_app.errors import EdgeAppError
from edge_app.frames import Frame
from edge_app.sources.base import Source, SourceError

log = logging.getLogger("edge_app.capture")


@dataclass(frozen=True)
class CaptureOptions:
    realtime: bool = True
    loop: bool = False  # files and folders: start over at the end
    rotate: int = 0
    flip: bool = False
    max_frames: int | None = None
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 10.0
    corrupt_burst: int = 30  # this many bad frames in a row count as a fault: reopen the source


class SourceHealth:
    """Whether frames are flowing, and since when they are not. Thread-safe."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._lock = threading.Lock()
        self.connected = False
        self.down_since: float | None = time.monotonic()
        self.reason = "starting"
        self.reconnects = 0
        self.faults = 0
        self.corrupt = 0
        self.retry_at: float | None = None

    def up(self) -> None:
        with self._lock:
            if not self.connected:
                if self.down_since is not None and self.faults:
                    log.info("source %s is back after %.1f s", self.name, time.monotonic() - self.down_since)
                self.connected, self.down_since, self.reason, self.retry_at = True, None, "", None

    def down(self, reason: str, retry_in: float) -> bool:
        """Count a fault; True when it starts an outage (the one that is logged)."""
        with self._lock:
            first = self.connected or self.down_since is None or self.reason == "starting"
            self.faults += 1
            if self.connected or self.down_since is None:
                self.down_since = time.monotonic()
            self.connected, self.reason = False, reason
            self.retry_at = time.monotonic() + retry_in
        if first:
            log.warning("source %s failed: %s; reconnecting with backoff", self.name, reason)
        else:
            log.debug("source %s still down: %s", self.name, reason)
        return first

    def opened(self) -> None:
        with self._lock:
            if self.faults:
                self.reconnects += 1

    def count_corrupt(self) -> int:
        with self._lock:
            self.corrupt += 1
            return self.corrupt

    def snapshot(self) -> dict[str, object]:
        with self._lock:
            now = time.monotonic()
            return {
                "name": self.name,
                "connected": self.connected,
                "outage_s": round(now - self.down_since, 1) if self.down_since is not None else None,
                "reason": self.reason or None,
                "retry_in_s": round(max(0.0, self.retry_at - now), 1) if self.retry_at else None,
                "reconnects": self.reconnects,
                "faults": self.faults,
                "corrupt_frames": self.corrupt,
            }


class Pacer:
    """Releases frames at `fps` without bursting to catch up after a stall."""

    def __init__(self, fps: float) -> None:
        self.interval = 1.0 / fps
        self._start: float | None = None
        self._count = 0

    def wait(self, stop: threading.Event) -> None:
        now = time.monotonic()
        if self._start is None or now - (self._start + self._count * self.interval) > self.interval:
            self._start, self._count = now, 0
        due = self._start + self._count * self.interval
        self._count += 1
        if due > now:
            stop.wait(due - now)


@dataclass(frozen=True)
class MediaClock:
    """A file's own time in batch mode: frame `seq` was captured `seq / fps` seconds after the
    first, however fast it is read, so what gates on time (region intervals, motion) gives the
    same results on every run and every machine."""

    fps: float
    mono: float = field(default_factory=time.monotonic)
    wall: float = field(default_factory=time.time)

    def stamp(self, seq: int) -> tuple[float, float]:
        """(ts, mono) of frame `seq`."""
        offset = seq / self.fps
        return self.wall + offset, self.mono + offset


class _End(enum.Enum):
    """The marker for a file that has ended (None means a turn without an image)."""

    END = enum.auto()


_END = _End.END


def retry_policy(name: str, options: CaptureOptions) -> str:
    """Why a source that fails is never given up: a camera service must ride out a camera that is
    unplugged, rebooting or not yet on the network, so the run bounds it, not the source."""
    frames = (
        f"; --max-frames {options.max_frames} counts frames that arrive, so it does not end a run that gets none"
        if options.max_frames
        else ""
    )
    return (
        f"source {name} is retried every {options.backoff_max_s:g} s at most for as long as the run lasts, so a"
        f" camera that comes back is picked up again; end the run with Ctrl-C or bound it with --duration{frames}"
    )


def _valid(image: object) -> bool:
    return isinstance(image, np.ndarray) and image.ndim in (2, 3) and image.size > 0 and image.dtype == np.uint8


class Capture:
    def __init__(
        self,
        source: Source,
        options: CaptureOptions,
        stop: threading.Event,
        health: SourceHealth,
        beat: Callable[[], None] = lambda: None,
    ) -> None:
        self.source = source
        self.options = options
        self.stop = stop
        self.beat = beat
        self.health = health
        self._opened = False
        self._backoff = options.backoff_initial_s
        self._bad_in_row = 0
        self._pacer: Pacer | None = None
        self._clock: MediaClock | None = None  # batch mode over a file: the file's time, not the reader's
        self._retry_told = False  # the retry policy is said once a run, at the first outage
        self.ended: str | None = None  # why frames() ended by itself: "end of input", "max frames reached"

    def frames(self) -> Iterator[Frame]:
        """Frames until the source ends (unless it loops), max_frames is reached, or stop is set."""
        from edge_app.sources.orient import orient

        seq = 0
        last_still: int | None = None
        pass_start = 0  # seq of the first frame of this pass over a looping file
        try:
            while not self.stop.is_set():
                image = self._next_image()
                if image is _END:
                    if not self.options.loop or seq == pass_start:  # an empty pass would loop on nothing
                        self.ended = "end of input"
                        return
                    self._close()  # the next turn reopens it from the start
                    pass_start = seq
                    continue
                if image is None:
                    continue
                still = getattr(self.source, "still", None)
                if still is not None and still == last_still and not self.options.realtime:
                    continue  # held only for the display: batch mode passes each picture once
                last_still = still
                if self.options.rotate or self.options.flip:
                    image = orient(image, self.options.rotate, self.options.flip)
                if self._pacer:
                    self._pacer.wait(self.stop)
                if self._clock is not None:
                    ts, mono = self._clock.stamp(seq)
                    yield Frame(image, seq, ts, mono, order=self.source.order, still=still)
                else:
                    yield Frame(image, seq, order=self.source.order, still=still)
                seq += 1
                if self.options.max_frames and seq >= self.options.max_frames:
                    self.ended = "max frames reached"
                    return
        finally:
            self._close()

    def _make_pacer(self) -> Pacer | None:
        """Files know their frame rate only once open."""
        fps = self.source.fps
        if self.source.live or not self.options.realtime or not fps:
            return None
        return Pacer(fps)

    def _make_clock(self) -> MediaClock | None:
        fps = self.source.fps
        if self.source.live or self.options.realtime or not fps:
            return None
        return MediaClock(fps)

    def _next_image(self) -> np.ndarray | _End | None:
        """An image; None when this turn gave none (a fault, a corrupt frame); _END when a file ends."""
        self.beat()
        if not self._opened and not self._open():
            return None
        try:
            image = self.source.read()
        except SourceError as exc:
            self._fault(str(exc))
            return None
        except EdgeAppError:
            raise
        except Exception as exc:  # a driver bug must not end a service: treat it like a fault
            self._fault(f"{type(exc).__name__}: {exc}")
            return None
        if image is None:
            if not self.source.live:
                return _END
            self._fault("the stream ended")
            return None
        if not _valid(image):
            self._corrupt()
            return None
        self._bad_in_row = 0
        self._backoff = self.options.backoff_initial_s
        self.health.up()
        return image

    def _open(self) -> bool:
        try:
            self.source.open()
        except SourceError as exc:
            self._fault(f"cannot open: {exc}")
            return False
        except EdgeAppError:
            raise  # a user mistake (no such file): fail now, with its hint
        except Exception as exc:
            self._fault(f"cannot open: {type(exc).__name__}: {exc}")
            return False
        self.health.opened()
        self._opened = True
        self._pacer = self._pacer or self._make_pacer()  # a looping file keeps its pace across the seam
        self._clock = self._clock or self._make_clock()
        return True

    def _corrupt(self) -> None:
        total = self.health.count_corrupt()
        self._bad_in_row += 1
        if self._bad_in_row == 1:
            log.warning("source %s gave a corrupt frame; skipping it (%d so far)", self.source.name, total)
        if self._bad_in_row >= self.options.corrupt_burst:
            self._fault(f"{self._bad_in_row} corrupt frames in a row")

    def _fault(self, reason: str) -> None:
        """Close, report, and wait out the backoff in short slices so the heartbeat keeps going."""
        self._close()
        self._bad_in_row = 0
        delay = self._backoff
        self._backoff = min(self._backoff * 2, self.options.backoff_max_s)
        if self.health.down(reason, delay) and not self._retry_told:
            self._retry_told = True
            log.warning("%s", retry_policy(self.source.name, self.options))
        deadline = time.monotonic() + delay
        while not self.stop.is_set():
            self.beat()
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.stop.wait(min(remaining, 1.0)):
                break

    def _close(self) -> None:
        if self._opened:
            self._opened = False
            try:
                self.source.close()
            except Exception as exc:  # closing a dead device can fail too
                log.debug("closing %s failed: %s", self.source.name, exc)
