"""A folder of photos as a slideshow: order, timing, constant size, one pass, stills, unreadable files."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from edge_app.errors import EdgeAppError
from edge_app.geometry import letterbox
from edge_app.images import read_image
from edge_app.sources.base import Source, SourceError
from edge_app.sources.slideshow import SlideshowSource, list_images, natural_key
from tests.helpers.pictures import read_frame
from tests.helpers.shared_data import IMAGES

SHARED_ORDER = ["bird.bmp", "cat.bmp", "grace_hopper.bmp", "hot_dog.jpg", "owl.jpg", "parrot.jpg", "sunflower.bmp"]


def photo(name: str, size: tuple[int, int] = (320, 240), folder: Path = IMAGES) -> np.ndarray:
    return letterbox(read_image(folder / name), *size)


@pytest.mark.shared
def test_shows_the_shared_photos_in_order_each_for_its_period_then_ends() -> None:
    source = SlideshowSource(IMAGES, period=0.2, size=(320, 240), rate=10.0)
    assert isinstance(source, Source)
    assert (source.live, source.order, source.fps, source.hold) == (False, "bgr", 10.0, 2)
    with source:
        frames, stills = [], []
        for _ in range(2 * len(SHARED_ORDER)):
            frames.append(read_frame(source))
            stills.append(source.still)
        assert source.read() is None and source.read() is None, "the end of the folder, as for a video file"
    assert {f.shape for f in frames} == {(240, 320, 3)}
    shown = [SHARED_ORDER[i // 2] for i in range(len(frames))]
    for frame, name in zip(frames, shown):
        assert np.array_equal(frame, photo(name)), name
    assert stills == [i // 2 for i in range(len(frames))], "the frames that hold one photo share its still number"
    assert source.skipped == 0


@pytest.mark.shared
def test_a_new_pass_lists_the_folder_again_and_numbers_stills_on(tmp_path: Path) -> None:
    shutil.copy(IMAGES / "cat.bmp", tmp_path / "a.bmp")
    source = SlideshowSource(tmp_path, period=0.1, size=(160, 120))
    with source:
        assert np.array_equal(read_frame(source), photo("a.bmp", (160, 120), tmp_path)) and source.still == 0
        shutil.copy(IMAGES / "owl.jpg", tmp_path / "b.jpg")
        assert source.read() is None, "a pass shows the photos there when it started"
    with source:  # what --loop does: open it again
        seen = [(read_frame(source), source.still) for _ in range(2)]
        assert source.read() is None
    assert [still for _, still in seen] == [1, 2], (
        "still numbers go on over passes: the same photo again is a new picture"
    )
    for (frame, _), name in zip(seen, ["a.bmp", "b.jpg"]):
        assert np.array_equal(frame, photo(name, (160, 120), tmp_path)), name


@pytest.mark.shared
def test_period_and_rate() -> None:
    slow = SlideshowSource(IMAGES, period=2.0)
    assert (slow.fps, slow.hold) == (10.0, 20)  # 2 s per photo, 10 frames a second for the overlay
    fast = SlideshowSource(IMAGES, period=1 / 30)
    assert (fast.fps, fast.hold) == (30.0, 1)  # faster than the display rate: one frame per photo
    with pytest.raises(EdgeAppError, match="period"):
        SlideshowSource(IMAGES, period=0)


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    """Two photos, a broken .jpg, a macOS '._' file, a text file and a subfolder."""
    for name in ("img10.jpg", "img2.jpg"):
        shutil.copy(IMAGES / "parrot.jpg" if name == "img2.jpg" else IMAGES / "hot_dog.jpg", tmp_path / name)
    (tmp_path / "img5.jpg").write_bytes(b"not a jpeg")
    (tmp_path / "._img2.jpg").write_bytes(b"apple double")
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "sub.jpg").mkdir()
    return tmp_path


@pytest.mark.shared
def test_natural_order_hidden_and_non_images_left_out(mixed: Path) -> None:
    assert [p.name for p in list_images(mixed)] == ["img2.jpg", "img5.jpg", "img10.jpg"]
    assert sorted([Path("a10.png"), Path("A9.png"), Path("a1.png")], key=natural_key) == [
        Path("a1.png"),
        Path("A9.png"),
        Path("a10.png"),
    ]


@pytest.mark.shared
def test_skips_and_counts_unreadable_files(mixed: Path) -> None:
    with SlideshowSource(mixed, period=0.1, size=(160, 120), rate=10.0) as source:
        frames = [read_frame(source), read_frame(source)]
        assert source.read() is None
    for frame, name in zip(frames, ["img2.jpg", "img10.jpg"]):
        assert np.array_equal(frame, photo(name, (160, 120), mixed)), name
    assert source.skipped == 1  # img5.jpg


@pytest.mark.shared
def test_photos_gone_while_running_end_the_pass(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("a.bmp", "b.bmp"):
        shutil.copy(IMAGES / "cat.bmp", folder / name)
    with SlideshowSource(folder, period=0.1) as source:
        source.read()
        shutil.rmtree(folder)
        assert source.read() is None and source.skipped == 1
    with pytest.raises(EdgeAppError, match="does not exist"):
        source.open()


def test_user_mistakes_fail_at_open(tmp_path: Path) -> None:
    with pytest.raises(EdgeAppError, match="does not exist"):
        SlideshowSource(tmp_path / "nope").open()
    with pytest.raises(EdgeAppError, match="no images in"):
        SlideshowSource(tmp_path).open()
    (tmp_path / "bad.png").write_bytes(b"x")
    with pytest.raises(EdgeAppError, match="can be read") as failure:
        SlideshowSource(tmp_path).open()
    assert not isinstance(failure.value, SourceError)


@pytest.mark.shared
def test_read_before_open_is_a_source_error() -> None:
    with pytest.raises(SourceError, match="not open"):
        SlideshowSource(IMAGES).read()
