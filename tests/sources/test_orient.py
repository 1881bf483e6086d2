"""Orientation: clockwise rotation, then a left-right mirror; validated values."""

from __future__ import annotations

import numpy as np
import pytest

from edge_app.errors import EdgeAppError
from edge_app.sources.orient import check_rotation, orient

# A 2x3 image whose every pixel is different:   0 1 2
#                                               3 4 5
IMAGE = np.arange(6, dtype=np.uint8).reshape(2, 3, 1).repeat(3, axis=2) * 40


def grid(image: np.ndarray) -> list[list[int]]:
    return (image[..., 0] // 40).tolist()


def test_nothing_to_do_returns_the_same_array() -> None:
    assert orient(IMAGE, 0, False) is IMAGE


@pytest.mark.parametrize(
    ("rotate", "flip", "expected"),
    [
        (90, False, [[3, 0], [4, 1], [5, 2]]),  # clockwise: the left column becomes the top row
        (180, False, [[5, 4, 3], [2, 1, 0]]),
        (270, False, [[2, 5], [1, 4], [0, 3]]),
        (0, True, [[2, 1, 0], [5, 4, 3]]),
        (90, True, [[0, 3], [1, 4], [2, 5]]),  # rotate first, then mirror what you see
        (180, True, [[3, 4, 5], [0, 1, 2]]),  # = upside down
        (270, True, [[5, 2], [4, 1], [3, 0]]),
    ],
)
def test_rotates_clockwise_then_mirrors(rotate: int, flip: bool, expected: list[list[int]]) -> None:
    out = orient(IMAGE, rotate, flip)
    assert grid(out) == expected
    assert out.flags.c_contiguous
    assert grid(IMAGE) == [[0, 1, 2], [3, 4, 5]]  # the input is untouched


def test_works_on_real_frame_sizes() -> None:
    frame = np.random.default_rng(0).integers(0, 255, (480, 640, 3), dtype=np.uint8)
    assert orient(frame, 90).shape == (640, 480, 3)
    assert np.array_equal(orient(orient(frame, 90), 270), frame)
    assert np.array_equal(orient(orient(frame, 0, True), 0, True), frame)


@pytest.mark.parametrize(("value", "degrees"), [(0, 0), (90, 90), ("180", 180), (" 270 ", 270), (-90, 270), (360, 0)])
def test_check_rotation_accepts_right_angles(value: object, degrees: int) -> None:
    assert check_rotation(value) == degrees


@pytest.mark.parametrize("value", [45, "x", "", None, True, 90.5, "+-90"])
def test_check_rotation_rejects_the_rest_with_a_hint(value: object) -> None:
    with pytest.raises(EdgeAppError, match="use 0, 90, 180 or 270"):
        check_rotation(value)


def test_orient_rejects_a_bad_angle() -> None:
    with pytest.raises(EdgeAppError):
        orient(IMAGE, 45)
    assert grid(orient(IMAGE, -90)) == grid(orient(IMAGE, 270))
