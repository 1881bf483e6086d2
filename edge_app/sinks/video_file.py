"""One recording file, encoded with PyAV (FFmpeg): H.264 in fragmented MP4 by default.

Why PyAV rather than OpenCV's VideoWriter: the opencv-python wheels carry no H.264 encoder
(only MPEG-4 Part 2, which browsers do not play), and their MP4 gets its index only when the
writer is released, so a process killed mid-recording leaves an unplayable file. PyAV's wheels
carry libx264, and fragmented MP4 ("frag_keyframe+empty_moov") puts a small index in front of
every fragment: a keyframe starts one every second, so a crash costs at most the fragment being
built. The file is also synced to disk at every fragment, so a power cut costs no more.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import IO, Any

import numpy as np

log = logging.getLogger("edge_app.recorder")
FRAGMENT_S = 1.0  # a keyframe, and so a fragment on disk, this often
_FRAGMENTED = {"movflags": "frag_keyframe+empty_moov+default_base_moof", "flush_packets": "1"}
_X264 = {"preset": "superfast", "tune": "zerolatency"}  # ~3 ms a 640x480 frame on one x86 core
CODEC_NAMES = {"libx264": "H.264", "libopenh264": "H.264", "mpeg4": "MPEG-4 Part 2", "mjpeg": "Motion JPEG"}


@dataclass(frozen=True)
class VideoFormat:
    muxer: str  # FFmpeg's container name
    container: str  # for the log
    codecs: tuple[str, ...]  # encoders in order of preference; the first the wheel carries is used
    pix_fmt: str
    muxer_options: Mapping[str, str] = field(default_factory=dict)
    codec_options: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # by encoder


_H264 = ("libx264", "libopenh264", "mpeg4")
_H264_OPTIONS = {"libx264": _X264}
MP4 = VideoFormat("mp4", "fragmented MP4", _H264, "yuv420p", _FRAGMENTED, _H264_OPTIONS)
FORMATS: dict[str, VideoFormat] = {
    ".mp4": MP4,
    ".m4v": MP4,
    ".mov": VideoFormat("mov", "fragmented QuickTime", _H264, "yuv420p", _FRAGMENTED, _H264_OPTIONS),
    ".mkv": VideoFormat(
        "matroska", "Matroska", _H264, "yuv420p", {"cluster_time_limit": "1000", "flush_packets": "1"}, _H264_OPTIONS
    ),
    ".avi": VideoFormat("avi", "AVI", ("mjpeg",), "yuvj420p", {"flush_packets": "1"}),
}


def even_size(size: tuple[int, int]) -> tuple[int, int]:
    """4:2:0 video needs even sides: an odd last row or column is cropped off."""
    width, height = size
    return max(2, width - width % 2), max(2, height - height % 2)


def frame_rate(fps: float) -> Fraction:
    """A rational rate close to `fps` (29.97 -> 2997/100), as FFmpeg's time bases want."""
    return Fraction(fps).limit_denominator(1001)


def pick_codec(video: VideoFormat, available: frozenset[str] | set[str]) -> str:
    for codec in video.codecs:
        if codec in available:
            return codec
    raise LookupError(f"none of the encoders {', '.join(video.codecs)} is in this PyAV build")


class VideoFile:
    """Frames in, a file that stays playable whenever the process dies. Not thread-safe: one
    writer thread owns it. write() and close() raise OSError when the disk refuses (full, gone)."""

    def __init__(
        self, path: Path, size: tuple[int, int], fps: float, opener: Callable[[Path], IO[bytes]] | None = None
    ) -> None:
        import av
        from av.video.stream import VideoStream

        self.path = path
        self.video = FORMATS[path.suffix.lower()]
        self.codec = pick_codec(self.video, av.codecs_available)
        self.size = even_size(size)
        self.written = 0
        self.synced = 0  # frames known to be on disk
        self._gop = max(1, round(fps * FRAGMENT_S))
        self._file = (opener or _create)(path)
        try:
            self._container: Any = av.open(
                self._file, "w", format=self.video.muxer, options=dict(self.video.muxer_options)
            )
            options = {**self.video.codec_options.get(self.codec, {}), "g": str(self._gop)}
            stream = self._container.add_stream(self.codec, rate=frame_rate(fps), options=options)
            if not isinstance(stream, VideoStream):
                raise LookupError(f"{self.codec} is not a video encoder")
            self._stream = stream
            self._stream.width, self._stream.height = self.size
            self._stream.pix_fmt = self.video.pix_fmt
            self._stream.codec_context.thread_count = 2  # leave the other cores to the model
        except BaseException:
            self._file.close()
            raise

    @property
    def description(self) -> str:
        """e.g. "H.264 (libx264) in fragmented MP4", for the log."""
        return f"{CODEC_NAMES.get(self.codec, self.codec)} ({self.codec}) in {self.video.container}"

    def write(self, image: np.ndarray) -> None:
        """One BGR frame of the recording's size (an odd last row or column is dropped)."""
        import av

        width, height = self.size
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image[:height, :width]), format="bgr24")
        keyframe = self.written % self._gop == 0
        if keyframe and self.written:  # the muxer writes the previous fragment out now
            self._mux(self._stream.encode(frame))
            self._sync(self.written)
        else:
            self._mux(self._stream.encode(frame))
        self.written += 1

    def _mux(self, packets: list[Any]) -> None:
        for packet in packets:
            self._container.mux(packet)

    def _sync(self, frames: int) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())
        self.synced = frames
        log.debug("recording: %d frames on disk in %s", frames, self.path)

    def close(self) -> None:
        """Flush the encoder, finish the file and sync it; the file is closed even when that fails."""
        try:
            self._mux(self._stream.encode(None))
            self._container.close()
            self._sync(self.written)
        finally:
            self._file.close()

    def abandon(self) -> None:
        """After a failed write: release everything, writing nothing more (the disk said no)."""
        for release in (self._container.close, self._file.close):
            try:
                release()
            except Exception:  # noqa: BLE001 - the file so far is what it is
                pass


def _create(path: Path) -> IO[bytes]:
    """Unbuffered (FFmpeg buffers), and never over an existing file."""
    return open(path, "xb", buffering=0)
