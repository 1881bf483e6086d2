"""The Pi camera source against a fake picamera2 whose arrays lie in memory like the real one's."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np
import pytest

from edge_app.errors import EdgeAppError
from edge_app.frames import Frame
from edge_app.model.preprocess import to_rgb
from edge_app.sources.base import Source, SourceError
from edge_app.sources.pi_camera import PiCameraSource
from tests.helpers.picamera2_fixtures import no_picamera2, picamera2  # noqa: F401  (fixtures)
from tests.helpers.waiting import completes


def camera(fake: ModuleType, index: int = -1) -> Any:
    """The fake Picamera2 object the source made (the last one by default)."""
    return fake.Picamera2.instances[index]


def test_requests_bgr888_at_size_and_rate(picamera2: ModuleType) -> None:
    source = PiCameraSource(0, (640, 480), fps=30.0)
    assert isinstance(source, Source)
    with source:
        config = camera(picamera2).camera_config
        assert config["main"]["format"] == "BGR888" and config["main"]["size"] == (640, 480)
        assert config["lores"] is None
        assert config["controls"] == {"FrameDurationLimits": (33333, 33333)}
        assert config["buffer_count"] == 4
        assert source.actual_size == (640, 480)
        assert (source.live, source.order, source.fps, source.name) == (True, "rgb", 30.0, "picamera2:0")


def test_frames_reach_the_model_and_the_screen_in_the_right_colours(picamera2: ModuleType) -> None:
    """The fake scene is red | green | blue from left to right. A source that asked for RGB888,
    or declared "bgr", would hand the model blue where the scene is red."""
    with PiCameraSource(0, (96, 64)) as source:
        image = source.read()
    assert image.shape == (64, 96, 3) and image.dtype == np.uint8
    left, middle, right = 10, 48, 86
    model_input = to_rgb(image, source.order)
    assert model_input[32, left].tolist() == [255, 0, 0]
    assert model_input[32, middle].tolist() == [0, 255, 0]
    assert model_input[32, right].tolist() == [0, 0, 255]
    screen = Frame(image, 0, order=source.order).bgr  # OpenCV order for drawing and JPEG
    assert screen[32, left].tolist() == [0, 0, 255]


def test_frames_are_fresh_each_read(picamera2: ModuleType) -> None:
    with PiCameraSource(0, (64, 48)) as source:
        first, second = source.read(), source.read()
    assert first[0, 0, 0] == 0 and second[0, 0, 0] == 1  # the fake's frame counter square


def test_a_start_failure_closes_the_camera(picamera2: ModuleType) -> None:
    picamera2.Picamera2.fail_start = True
    source = PiCameraSource(0)
    with pytest.raises(SourceError, match="cannot start Pi camera 0 at 640x480") as failure:
        source.open()
    assert "resource busy" in str(failure.value)
    assert camera(picamera2).calls == ["configure", "close"] and not camera(picamera2).is_open
    source.close()  # nothing left to close; still fine


def test_a_camera_that_is_not_there_is_retryable(picamera2: ModuleType) -> None:
    with pytest.raises(SourceError, match="cannot open Pi camera 3") as failure:
        PiCameraSource(3).open()
    assert "ribbon cable" in str(failure.value)
    assert picamera2.Picamera2.instances == []


def test_a_silent_camera_raises_instead_of_hanging(picamera2: ModuleType) -> None:
    picamera2.Picamera2.stall_after = 2
    source = PiCameraSource(0, (64, 48), read_timeout=0.3)
    with source:
        source.read()
        source.read()
        with pytest.raises(SourceError, match="sent no frame for 0.3 s"):
            completes(
                source.read, message="read() of a silent camera hung"
            )  # how soon: benchmarks/bench_responsiveness.py


def test_close_stops_then_closes_once(picamera2: ModuleType) -> None:
    source = PiCameraSource(0)
    source.open()
    source.close()
    source.close()
    assert camera(picamera2).calls == ["configure", "start", "stop", "close"]
    with pytest.raises(SourceError, match="not open"):
        source.read()


def test_reopen_makes_a_new_camera(picamera2: ModuleType) -> None:
    source = PiCameraSource(0)
    source.open()
    source.open()  # an open() after a fault releases the old camera first
    assert [c.is_open for c in picamera2.Picamera2.instances] == [False, True]
    source.close()


def test_a_missing_picamera2_is_a_fatal_user_mistake_with_the_apt_hint(no_picamera2: None) -> None:
    with pytest.raises(EdgeAppError) as failure:
        PiCameraSource(0).open()
    assert not isinstance(failure.value, SourceError)  # retrying cannot install a package
    assert "apt install python3-picamera2" in str(failure.value)
    assert "--system-site-packages" in str(failure.value)
