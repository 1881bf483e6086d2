"""Clips: cut from the ring buffer without re-encoding, pre_s + post_s long, starting at zero,
containing the event's frame, and playable up to where they stopped when cut short."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
import pytest

from edge_app.events.clips import ClipBuffer, Splitter, boxes, decode_time, retime

if TYPE_CHECKING:
    from typing_extensions import Buffer

av = pytest.importorskip("av")
FPS = 30.0


def _frame(i: int) -> np.ndarray:
    """A frame that shows its own number as a grey level in its top-left block."""
    image = np.zeros((120, 160, 3), np.uint8)
    image[:40, :40] = (i * 2) % 250
    cv2.putText(image, str(i), (50, 90), cv2.FONT_HERSHEY_SIMPLEX, 1, (255, 255, 255), 2)
    return image


def _feed(buffer: ClipBuffer, frames: range, clip_at: dict[int, Path], done: list[Path | None]) -> None:
    for i in frames:
        buffer.offer(_frame(i), 100.0 + i / FPS)
        if i in clip_at:
            buffer.clip(clip_at[i], 100.0 + i / FPS, done.append)


def _decoded(path: Path) -> list[tuple[float, int]]:
    with av.open(str(path)) as container:
        return [
            (float(f.pts * f.time_base), int(f.to_ndarray(format="bgr24")[5:35, 5:35].mean()))
            for f in container.decode(container.streams.video[0])
        ]


def test_a_clip_lasts_pre_plus_post_from_zero_and_contains_the_event(tmp_path: Path) -> None:
    buffer = ClipBuffer(2.0, 2.0, FPS, lossless=True)  # every frame, as in batch mode (live, a full queue drops)
    done: list[Path | None] = []
    buffer.start()
    _feed(buffer, range(300), {150: tmp_path / "a.mp4"}, done)
    buffer.close(10)
    assert done == [tmp_path / "a.mp4"]
    frames = _decoded(tmp_path / "a.mp4")
    seconds = frames[-1][0] + 1 / FPS
    assert abs(seconds - 4.0) <= 0.5
    assert frames[0][0] == 0.0
    levels = [level for _, level in frames]
    assert min(abs(level - (150 * 2) % 250) for level in levels) <= 3  # the event's own frame is in it
    assert buffer.encoded == 300


def test_a_clip_cut_short_plays_up_to_where_it_stopped(tmp_path: Path) -> None:
    buffer = ClipBuffer(1.0, 30.0, FPS, lossless=True)  # every frame, as in batch mode (live, a full queue drops)
    done: list[Path | None] = []
    buffer.start()
    _feed(buffer, range(120), {40: tmp_path / "b.mp4"}, done)
    buffer.close(10)  # the run ends (as a crash would) long before post_s
    frames = _decoded(tmp_path / "b.mp4")
    assert len(frames) >= 60  # from a second before the event to nearly the end of the feed


def test_retime_moves_decode_times_to_zero_without_touching_the_samples() -> None:
    import io

    chunks: list[bytes] = []

    class Capture(io.RawIOBase):
        def writable(self) -> bool:
            return True

        def write(self, data: Buffer) -> int:
            chunk = bytes(data)
            chunks.append(chunk)
            return len(chunk)

    container = av.open(
        Capture(), "w", format="mp4", options={"movflags": "frag_keyframe+empty_moov+default_base_moof"}
    )
    stream = container.add_stream("libx264", rate=30, options={"g": "10"})
    stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
    for i in range(40):
        for packet in stream.encode(av.VideoFrame.from_ndarray(np.full((48, 64, 3), i, np.uint8), format="bgr24")):
            container.mux(packet)
    for packet in stream.encode(None):
        container.mux(packet)
    container.close()
    splitter = Splitter()
    fragments = [f for chunk in chunks for f in splitter.feed(chunk)]
    assert splitter.header is not None and [k for k, _, _ in boxes(splitter.header)] == ["ftyp", "moov"]
    assert len(fragments) >= 4  # a keyframe every 10 frames (and at scene cuts)
    later = fragments[2]
    moved = retime(later, decode_time(later), 1)
    assert decode_time(later) > 0 and decode_time(moved) == 0
    assert len(moved) == len(later) and moved[-200:] == later[-200:]  # the samples are the same bytes


def test_frames_arriving_with_jitter_are_encoded_and_clipped(tmp_path: Path) -> None:
    buffer = ClipBuffer(1.0, 1.0, FPS, lossless=True)  # every frame, as in batch mode (live, a full queue drops)
    done: list[Path | None] = []
    buffer.start()
    rng = np.random.default_rng(0)
    mono = 10.0
    for i in range(150):
        mono += 1 / FPS + rng.uniform(-0.02, 0.02)  # a live camera: never exactly one period apart
        buffer.offer(_frame(i), mono)
        if i == 75:
            buffer.clip(tmp_path / "j.mp4", mono, done.append)
    buffer.close(10)
    assert buffer.encoded == 150
    assert done == [tmp_path / "j.mp4"] and len(_decoded(tmp_path / "j.mp4")) >= 45
