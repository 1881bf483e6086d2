"""Video files: frame count, order, fps and the end, on MJPG .avi files made here."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge_app.errors import EdgeAppError
from edge_app.sources.base import Source, SourceError
from edge_app.sources.synthetic import SyntheticSource, read_code
from edge_app.sources.video import VideoFileSource, ended_early
from tests.helpers.pictures import read_frame


def write_video(path: Path, count: int, fps: float, size: tuple[int, int] = (160, 120)) -> Path:
    """Synthetic frames 0..count-1, each carrying its number, as an MJPG .avi."""
    frames = SyntheticSource(size)
    frames.open()
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, size)
    assert writer.isOpened()
    for i in range(count):
        writer.write(frames.frame(i))
    writer.release()
    return path


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_video(tmp_path_factory.mktemp("video") / "clip.avi", 24, 12.5)


def test_reads_every_frame_in_order_then_ends(clip: Path) -> None:
    source = VideoFileSource(clip)
    assert isinstance(source, Source)
    source.open()
    numbers = []
    while (image := source.read()) is not None:
        assert image.shape == (120, 160, 3)
        numbers.append(read_code(image))
    assert numbers == list(range(24))
    assert source.read() is None  # still the end
    source.close()
    source.close()  # twice is fine


def test_reports_the_container_fps_and_length(clip: Path) -> None:
    with VideoFileSource(clip) as source:
        assert source.fps == pytest.approx(12.5)
        assert source.frame_count == 24
        assert source.live is False
        assert source.order == "bgr"
        assert source.name == "video:clip.avi"


def test_reopen_starts_again(clip: Path) -> None:
    source = VideoFileSource(clip)
    for _ in range(2):
        source.open()
        assert read_code(read_frame(source)) == 0
        assert read_code(read_frame(source)) == 1
    source.close()


def test_a_missing_file_is_a_user_mistake_not_a_retry(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    capfd.readouterr()
    with pytest.raises(EdgeAppError) as failure:
        VideoFileSource(tmp_path / "nope.mp4").open()
    assert not isinstance(failure.value, SourceError)
    assert "does not exist" in str(failure.value) and "; " in str(failure.value)  # message; hint
    assert capfd.readouterr().err == ""


def test_a_folder_is_not_a_video(tmp_path: Path) -> None:
    with pytest.raises(EdgeAppError, match="is a folder"):
        VideoFileSource(tmp_path).open()


def test_a_file_ffmpeg_cannot_read_says_so(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"this is not a video" * 100)
    capfd.readouterr()
    with pytest.raises(EdgeAppError, match="not a video FFmpeg can read") as failure:
        VideoFileSource(junk).open()
    assert not isinstance(failure.value, SourceError)
    assert capfd.readouterr().err == ""  # no "moov atom not found" from FFmpeg


def test_read_before_open_is_a_source_error(clip: Path) -> None:
    with pytest.raises(SourceError, match="not open"):
        VideoFileSource(clip).read()


def indexed_mp4(path: Path, frames: int) -> Path:
    """An MP4 with its index (moov) in front, as phones and `-movflags faststart` write them."""
    import av

    with av.open(str(path), "w", options={"movflags": "faststart"}) as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(frames):
            picture = np.random.default_rng(i).integers(0, 255, (48, 64, 3), np.uint8)  # noise: every frame costs bytes
            container.mux(stream.encode(av.VideoFrame.from_ndarray(picture, format="bgr24")))
        container.mux(stream.encode(None))
    return path


def read_all(source: VideoFileSource) -> int:
    source.open()
    count = 0
    while source.read() is not None:
        count += 1
    source.close()
    return count


@pytest.mark.parametrize(
    ("read", "count", "early"),
    [(248, 900, True), (900, 900, False), (895, 900, False), (0, None, False), (97, 100, True)],
)
def test_ended_early_allows_for_estimated_counts(read: int, count: int | None, early: bool) -> None:
    assert ended_early(read, count) is early


def test_a_truncated_file_warns_once_where_it_ended(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    whole = indexed_mp4(tmp_path / "clip.mp4", 90)
    with caplog.at_level(logging.WARNING, logger="edge_app.sources"):
        assert read_all(VideoFileSource(whole)) == 90
    assert caplog.records == []
    data = whole.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 3])
    with caplog.at_level(logging.WARNING, logger="edge_app.sources"):
        read = read_all(VideoFileSource(cut))
    assert 0 < read < 80
    assert [r.getMessage() for r in caplog.records] == [
        f"cut.mp4 ended at frame {read} of 90: the file looks truncated"
    ]
