"""The synthetic source: deterministic, different every frame, optional photos, never paced by itself."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import pytest

from edge_app.errors import EdgeAppError
from edge_app.geometry import letterbox
from edge_app.images import read_image
from edge_app.sources.base import Source
from edge_app.sources.synthetic import SyntheticSource, read_code, stamp_code
from tests.helpers.pictures import read_frame
from tests.helpers.shared_data import IMAGES
from tests.helpers.waiting import completes


def opened(**kwargs: Any) -> SyntheticSource:  # SyntheticSource's arguments, by name
    source = SyntheticSource(**kwargs)
    source.open()
    return source


def test_is_a_finite_or_endless_non_live_bgr_source() -> None:
    source = opened(size=(64, 48), fps=12.0, count=3)
    assert isinstance(source, Source)
    assert (source.live, source.order, source.fps, source.name) == (False, "bgr", 12.0, "synthetic:64x48")
    assert [read_code(read_frame(source)) for _ in range(3)] == [0, 1, 2]
    assert source.read() is None
    endless = opened(size=(64, 48))
    assert all(endless.read() is not None for _ in range(500))


def test_same_settings_same_pixels() -> None:
    a, b = opened(size=(320, 240)), opened(size=(320, 240))
    for _ in range(40):
        assert np.array_equal(read_frame(a), read_frame(b))
    assert np.array_equal(a.frame(7), b.frame(7))


def test_every_frame_differs_from_the_last() -> None:
    source = opened(size=(320, 240))
    frames = [read_frame(source) for _ in range(100)]
    assert all(frame.shape == (240, 320, 3) and frame.dtype == np.uint8 for frame in frames)
    assert all(not np.array_equal(x, y) for x, y in zip(frames, frames[1:]))


def test_frames_are_independent_arrays() -> None:
    source = opened(size=(64, 48))
    first = read_frame(source)
    first[:] = 0  # a consumer drawing on a frame must not change later frames
    assert source.frame(0).any()


@pytest.mark.parametrize("number", [0, 1, 2, 255, 123_456, 2**24 - 1])
def test_frame_numbers_survive_jpeg(number: int) -> None:
    image = opened(size=(320, 240)).frame(number)
    ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 70])
    decoded = cv2.imdecode(jpeg, cv2.IMREAD_COLOR)
    assert decoded is not None and read_code(decoded) == number
    assert read_code(decoded[..., ::-1]) == number  # the strip is grey: channel order does not matter


def test_stamp_and_read_code_round_trip_on_any_image() -> None:
    image = np.full((100, 400, 3), 128, np.uint8)
    stamp_code(image, 99_999)
    assert read_code(image) == 99_999
    assert read_code(np.zeros((4, 10, 3), np.uint8)) is None  # too small to carry a code


@pytest.mark.shared
def test_cycles_through_photos_leaving_them_classifiable() -> None:
    paths = [IMAGES / "parrot.jpg", IMAGES / "cat.bmp"]
    source = opened(size=(320, 240), fps=10.0, images=paths, seconds_per_image=0.3)
    assert source.hold == 3
    frames = [read_frame(source) for _ in range(7)]
    expected = [letterbox(read_image(p), 320, 240) for p in paths]
    middle = (slice(60, 180), slice(80, 240))  # away from the number and the progress bar
    for i, frame in enumerate(frames):
        photo = expected[(i // 3) % 2]
        assert np.array_equal(frame[middle], photo[middle]), i
        assert read_code(frame) == i
    assert not np.array_equal(frames[0], frames[1])  # the progress bar still moves


def test_a_missing_photo_is_a_user_mistake(tmp_path) -> None:
    with pytest.raises(EdgeAppError):
        opened(images=[tmp_path / "missing.jpg"])


def test_bad_settings_are_user_mistakes() -> None:
    with pytest.raises(EdgeAppError, match="too small"):
        SyntheticSource(size=(8, 8))
    with pytest.raises(EdgeAppError, match="fps"):
        SyntheticSource(fps=0)


def test_read_never_waits_pacing_is_the_pipelines_job() -> None:
    source = opened(size=(640, 480), fps=0.1)
    frames = completes(
        lambda: [source.read() for _ in range(30)], timeout=60, message="read() paced itself"
    )  # 300 s if it slept
    assert len(frames) == 30 and all(frame is not None for frame in frames)
