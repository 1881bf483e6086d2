"""Video files: frame count, order, fps and the end, on MJPG .avi files made here."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest

from edge_app.errors import EdgeAppError
from edge_app.sources.base import Source, SourceError
from edge_app.sources.synthetic import SyntheticSource, read_code
from edge_app.sources.video import VideoFileSource


def write_video(path: Path, count: int, fps: float, size: tuple[int, int] = (160, 120)) -> Path:
    """Synthetic frames 0..count-1, each carrying its number, as an MJPG .avi."""
    frames = SyntheticSource(size)
    frames.open()
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
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
        assert read_code(source.read()) == 0
        assert read_code(source.read()) == 1
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
