"""Clips around events, cut from a ring buffer of encoded video without re-encoding.

While any region has clips on, one encoder per camera turns its displayed frames into H.264 in
fragmented MP4 (the recorder's encoder and settings, edge_app.sinks.video_file) written into
memory; the stream is split into its header (ftyp + moov) and fragments (moof + mdat, one per
keyframe, every FRAGMENT_S). The buffer keeps the last `pre_s` of fragments. A clip is the header
and the fragments from `pre_s` before its event to `post_s` after, each fragment's decode time
moved so the clip starts at zero: bytes copied, never decoded. The file is written fragment by
fragment and synced, so a clip cut short by a crash plays up to where it stopped.
"""

from __future__ import annotations

import logging
import os
import queue
import struct
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import IO, Any

import numpy as np

from edge_app.mailbox import Mailbox
from edge_app.sinks.video_file import MP4, even_size, pick_codec

log = logging.getLogger("edge_app.events")
FRAGMENT_S = 0.5  # a keyframe this often: clip ends fall within a quarter second of pre_s and post_s
TIME_BASE = Fraction(1, 1000)  # frames are stamped with their capture time, in ms
QUEUE_S = 1.0  # frames waiting for the encoder, in seconds of video; more are dropped (counted)


# -- the ISO BMFF boxes, just enough to split a stream and retime a fragment -----------------


def boxes(data: bytes | bytearray, start: int = 0, end: int | None = None) -> list[tuple[str, int, int]]:
    """(type, offset, size) of the complete boxes in data[start:end]."""
    found = []
    end = len(data) if end is None else end
    offset = start
    while offset + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, offset)
        header = 8
        if size == 1:
            if offset + 16 > end:
                break
            size = struct.unpack_from(">Q", data, offset + 8)[0]
            header = 16
        if size < header or offset + size > end:
            break
        found.append((kind.decode("latin-1"), offset, size))
        offset += size
    return found


class Splitter:
    """Bytes of a fragmented MP4 stream in; its header and whole fragments out, as they complete."""

    def __init__(self) -> None:
        self.header: bytes | None = None
        self._pending = bytearray()
        self._fragment = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        self._pending += data
        complete = boxes(self._pending)
        fragments: list[bytes] = []
        used = 0
        for kind, offset, size in complete:
            box = bytes(self._pending[offset : offset + size])
            used = offset + size
            if self.header is None or kind in ("ftyp", "moov"):
                self.header = (self.header or b"") + box if kind != "ftyp" else box
                continue
            if kind == "moof" and self._fragment:
                fragments.append(bytes(self._fragment))
                self._fragment.clear()
            self._fragment += box
            if kind == "mdat":
                fragments.append(bytes(self._fragment))
                self._fragment.clear()
        del self._pending[:used]
        return fragments


def _children(data: bytearray, parent: tuple[str, int, int]) -> list[tuple[str, int, int]]:
    _, offset, size = parent
    return boxes(data, offset + 8, offset + size)


def decode_time(fragment: bytes) -> int:
    """The first track's base media decode time (tfdt) of a fragment."""
    for _, offset, _ in _tfdts(bytearray(fragment)):
        return int(struct.unpack_from(">Q" if fragment[offset + 8] else ">I", fragment, offset + 12)[0])
    return 0


def timescale(header: bytes) -> int:
    """The video track's time units per second (mdhd), from the stream's header."""
    data = bytearray(header)
    for moov in (b for b in boxes(data) if b[0] == "moov"):
        for trak in (b for b in _children(data, moov) if b[0] == "trak"):
            for mdia in (b for b in _children(data, trak) if b[0] == "mdia"):
                for _, at, _ in (b for b in _children(data, mdia) if b[0] == "mdhd"):
                    return int(struct.unpack_from(">I", data, at + 12 + (16 if data[at + 8] else 8))[0])
    raise ValueError("the stream's header has no video track")


def _tfdts(data: bytearray) -> list[tuple[str, int, int]]:
    found = []
    for moof in (b for b in boxes(data) if b[0] == "moof"):
        for traf in (b for b in _children(data, moof) if b[0] == "traf"):
            found += [b for b in _children(data, traf) if b[0] == "tfdt"]
    return found


def retime(fragment: bytes, offset: int, sequence: int) -> bytes:
    """The fragment with its decode times moved back by `offset` and its sequence number set."""
    data = bytearray(fragment)
    for moof in (b for b in boxes(data) if b[0] == "moof"):
        for kind, at, _ in _children(data, moof):
            if kind == "mfhd":
                struct.pack_into(">I", data, at + 12, sequence)
    for _, at, _ in _tfdts(data):
        if data[at + 8]:
            struct.pack_into(">Q", data, at + 12, max(0, struct.unpack_from(">Q", data, at + 12)[0] - offset))
        else:
            struct.pack_into(">I", data, at + 12, max(0, struct.unpack_from(">I", data, at + 12)[0] - offset))
    return bytes(data)


# -- the ring buffer and the clips cut from it -----------------------------------------------


@dataclass(frozen=True)
class Fragment:
    start: float  # capture time (monotonic) of its first frame
    end: float  # of the next fragment's first frame
    data: bytes


@dataclass
class Clip:
    """One clip being written: `at` is the event's capture time."""

    path: Path
    at: float
    until: float
    done: Callable[[Path | None], None]
    file: IO[bytes] | None = None
    offset: int = 0
    sequence: int = 0
    fragments: int = 0
    seconds: float = 0.0


def nearest_start(fragments: list[Fragment] | deque[Fragment], wanted: float) -> int:
    """The index of the fragment whose start is nearest `wanted` (the clip begins there)."""
    return min(range(len(fragments)), key=lambda i: abs(fragments[i].start - wanted))


class _Capture:
    """The encoder's output: a write-only stream the splitter reads."""

    def __init__(self, on_fragment: Callable[[bytes], None]) -> None:
        self.splitter = Splitter()
        self._on_fragment = on_fragment

    def write(self, data: bytes) -> int:
        for fragment in self.splitter.feed(bytes(data)):
            self._on_fragment(fragment)
        return len(data)

    def flush(self) -> None:
        pass


class ClipBuffer:
    """One camera's encoder, ring buffer and clips, on one thread fed by a Mailbox."""

    def __init__(
        self,
        pre_s: float,
        post_s: float,
        fps: float = 30.0,
        refused: Callable[[OSError], bool] = lambda e: False,
        lossless: bool = False,
    ) -> None:
        self.pre_s = pre_s
        self.post_s = post_s
        self.fps = fps
        self.encoded = 0
        self._refused = refused
        self._frames: Mailbox[tuple[np.ndarray, float]] = Mailbox(max(2, round(fps * QUEUE_S)), lossless)
        self._requests: queue.SimpleQueue[Clip] = queue.SimpleQueue()
        self._ring: deque[Fragment] = deque()
        self._now = 0.0  # capture time of the frame being encoded (a fragment ends there)
        self._t0 = 0.0
        self._scale = 0
        self._clips: list[Clip] = []
        self._header: bytes | None = None
        self._encoder: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="edge-app-clips", daemon=True)
        self._thread.start()

    @property
    def dropped(self) -> int:
        """Frames the encoder was too slow for (real time only)."""
        return self._frames.dropped

    def offer(self, image: np.ndarray, mono: float) -> None:
        """A frame (BGR) captured at `mono`; in real time never blocks (the encoder behind, the
        oldest waiting frame is dropped)."""
        self._frames.put((image, mono))

    def clip(self, path: Path, at: float, done: Callable[[Path | None], None]) -> None:
        """Cut a clip around `at` into `path` (a new file); `done` gets the path once it is
        complete, or None if nothing could be written."""
        self._requests.put(Clip(path, at, at + self.post_s, done))

    def close(self, timeout: float = 2.0) -> None:
        if self._thread is None:
            return
        self._frames.close()
        self._thread.join(timeout)

    # -- the thread -------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while (item := self._frames.get()) is not None:
                self._take_requests()
                self._encode(*item)
            if self._encoder is not None:
                self._now += 1 / self.fps
                self._encoder.finish()
        except Exception:  # noqa: BLE001 - clips end; the run goes on
            log.exception("events: the clip encoder failed; clips stop, the run goes on")
        finally:
            self._frames.close()  # a dead encoder takes nothing more: a lossless offer must not wait for it
            self._take_requests()
            for clip in list(self._clips):
                self._finish(clip)

    def _take_requests(self) -> None:
        while True:
            try:
                clip = self._requests.get_nowait()
            except queue.Empty:
                return
            self._begin(clip)

    def _encode(self, image: np.ndarray, mono: float) -> None:
        if self._encoder is None:
            self._t0 = mono
            self._encoder = _Encoder((image.shape[1], image.shape[0]), self.fps, mono, _Capture(self._fragment))
        self._now = mono
        self._encoder.write(image, mono)
        self.encoded += 1

    def _fragment(self, data: bytes) -> None:
        if self._header is None:
            self._header = self._encoder.capture.splitter.header
            self._scale = timescale(self._header)
        fragment = Fragment(self._t0 + decode_time(data) / self._scale, self._now, data)
        self._ring.append(fragment)
        while len(self._ring) > 1 and self._ring[1].start <= fragment.end - self.pre_s - FRAGMENT_S:
            self._ring.popleft()
        for clip in list(self._clips):
            self._append(clip, fragment)

    def _begin(self, clip: Clip) -> None:
        self._clips.append(clip)
        if not self._ring or self._header is None:
            return  # the first fragments are still being encoded: they come with _fragment
        first = nearest_start(self._ring, clip.at - self.pre_s)
        for fragment in list(self._ring)[first:]:
            self._append(clip, fragment)

    def _append(self, clip: Clip, fragment: Fragment) -> None:
        if clip.file is None:
            if fragment.end <= clip.at - self.pre_s:
                return
            if not self._open(clip, fragment):
                return
        if abs(fragment.start - clip.until) < abs(fragment.end - clip.until) and clip.fragments:
            self._finish(clip)  # ending here is nearer post_s than taking this one too
            return
        assert clip.file is not None
        try:
            clip.file.write(retime(fragment.data, clip.offset, clip.sequence + 1))
            clip.file.flush()
            os.fsync(clip.file.fileno())
        except OSError as exc:
            self._complain(clip, exc)
            self._finish(clip)
            return
        clip.sequence += 1
        clip.fragments += 1
        clip.seconds += fragment.end - fragment.start
        if fragment.end >= clip.until:
            self._finish(clip)

    def _complain(self, clip: Clip, exc: OSError) -> None:
        if not self._refused(exc):
            log.error("events: cannot write the clip %s (%s)", clip.path, exc.strerror or exc)

    def _open(self, clip: Clip, fragment: Fragment) -> bool:
        assert self._header is not None
        try:
            clip.path.parent.mkdir(parents=True, exist_ok=True)
            clip.file = open(clip.path, "xb")
            clip.file.write(self._header)
        except OSError as exc:
            self._complain(clip, exc)
            self._clips.remove(clip)
            if clip.file is not None:
                clip.file.close()
                clip.path.unlink(missing_ok=True)
            clip.done(None)
            return False
        clip.offset = decode_time(fragment.data)
        return True

    def _finish(self, clip: Clip) -> None:
        if clip in self._clips:
            self._clips.remove(clip)
        if clip.file is not None:
            clip.file.close()
        clip.done(clip.path if clip.fragments else None)
        if not clip.fragments:
            clip.path.unlink(missing_ok=True)


class _Encoder:
    """The recorder's H.264 encoder writing fragmented MP4 to `capture`, frames stamped by capture time."""

    def __init__(self, size: tuple[int, int], fps: float, t0: float, capture: _Capture) -> None:
        import av

        self.capture = capture
        self._given = size
        self.size = even_size(size)
        self._t0 = t0
        self._last_pts = -1
        self._gop = max(1, round(fps * FRAGMENT_S))
        self._written = 0
        self._container: Any = av.open(capture, "w", format=MP4.muxer, options=dict(MP4.muxer_options))
        codec = pick_codec(MP4, av.codecs_available)
        options = {**MP4.codec_options.get(codec, {}), "g": str(self._gop)}
        if codec == "libx264":
            options["x264-params"] = "scenecut=0"  # keyframes (and so fragments) only on the clock
        stream: Any = self._container.add_stream(codec, rate=Fraction(fps).limit_denominator(1001), options=options)
        stream.width, stream.height = self.size
        stream.pix_fmt = MP4.pix_fmt
        stream.time_base = TIME_BASE
        stream.codec_context.time_base = TIME_BASE  # frames keep their capture times, jitter and all
        stream.codec_context.thread_count = 1  # the pipeline's threads come first
        self._stream = stream

    @property
    def keyframe_next(self) -> bool:
        return self._written % self._gop == 0

    def write(self, image: np.ndarray, mono: float) -> None:
        import av
        import cv2

        if (image.shape[1], image.shape[0]) != self._given:  # a "no signal" card, or a stream that changed size
            image = cv2.resize(image, self._given, interpolation=cv2.INTER_AREA)
        width, height = self.size
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image[:height, :width]), format="bgr24")
        pts = max(self._last_pts + 1, round((mono - self._t0) / TIME_BASE))
        frame.pts, frame.time_base = pts, TIME_BASE
        self._last_pts = pts
        if self.keyframe_next:
            frame.pict_type = av.video.frame.PictureType.I
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self._written += 1

    def finish(self) -> None:
        for packet in self._stream.encode(None):
            self._container.mux(packet)
        self._container.close()
