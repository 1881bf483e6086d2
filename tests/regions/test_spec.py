"""Region boxes and tables: every mistake refused with words that name it."""

from __future__ import annotations

import math

import pytest

from edge_app.errors import EdgeAppError
from edge_app.regions.spec import Box, RegionSpec, check_unique, parse_box, parse_flag, parse_table


def test_a_box_from_a_list_or_text() -> None:
    assert parse_box([0.1, 0.2, 0.5, 0.9]) == Box(0.1, 0.2, 0.5, 0.9)
    assert parse_box("0,0,1,1").whole


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ([0.1, 0.2, 1.5, 0.9], "outside 0 to 1"),
        ([-0.1, 0.2, 0.5, 0.9], "outside 0 to 1"),
        ([0.5, 0.2, 0.5, 0.9], "empty"),
        ([0.6, 0.2, 0.5, 0.9], "reversed"),
        ([math.nan, 0.2, 0.5, 0.9], "outside 0 to 1"),
        ([0.1, 0.2, 0.5], "needs 4 numbers"),
        ("a,b,c,d", "not a number"),
        ([True, 0, 1, 1], "not a number"),
    ],
)
def test_bad_boxes_are_named(value: object, words: str) -> None:
    with pytest.raises(EdgeAppError, match=words):
        parse_box(value)


def test_pixels_clamp_and_keep_at_least_one_pixel() -> None:
    assert Box(0.0, 0.0, 1.0, 1.0).pixels(640, 480) == (0, 0, 640, 480)
    assert Box(0.5, 0.5, 0.5001, 0.5001).pixels(10, 10) == (5, 5, 6, 6)


def test_the_flag_and_the_table() -> None:
    assert parse_flag("door=0.1,0.2,0.4,0.9").box == Box(0.1, 0.2, 0.4, 0.9)
    spec = parse_table("feeder", {"box": [0.05, 0.08, 0.45, 0.62], "on_motion": True, "every": 30, "confirm": 2})
    assert (spec.on_motion, spec.every, spec.confirm, spec.threshold) == (True, 30.0, 2, 0.8)
    with pytest.raises(EdgeAppError, match="unknown key 'evry'"):
        parse_table("feeder", {"box": [0, 0, 1, 1], "evry": 3})
    with pytest.raises(EdgeAppError, match="needs NAME="):
        parse_flag("0.1,0.2,0.4,0.9")
    with pytest.raises(EdgeAppError, match="confirm must be"):
        parse_table("feeder", {"box": [0, 0, 1, 1], "confirm": 0})
    with pytest.raises(EdgeAppError, match="not usable"):
        parse_table("Bad Name", {"box": [0, 0, 1, 1]})


def test_duplicate_and_reserved_names() -> None:
    a = RegionSpec("door")
    with pytest.raises(EdgeAppError, match="defined twice"):
        check_unique([a, a])
    with pytest.raises(EdgeAppError, match="taken by the whole view"):
        check_unique([RegionSpec("frame")])
