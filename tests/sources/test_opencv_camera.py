"""USB webcams through OpenCV. No webcam here: a missing device for real, the rest against a fake
cv2.VideoCapture that records how the source drives it."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import pytest

from edge_app.sources import opencv_camera
from edge_app.sources.base import Source, SourceError
from edge_app.sources.opencv_camera import OpenCVCamera, wants_mjpg
from tests.helpers.waiting import completes


@pytest.mark.parametrize(
    ("resolution", "fps", "mjpg"),
    [
        (None, None, False),
        ((640, 480), 30.0, False),  # 18 MB/s of YUYV: fits USB 2, no JPEG decoding on the Pi
        ((640, 480), None, False),
        ((1280, 720), 30.0, True),
        ((1280, 720), 5.0, False),
        ((1920, 1080), 15.0, True),
        ((800, 600), 30.0, True),
    ],
)
def test_wants_mjpg_when_raw_video_would_not_fit_usb2(
    resolution: tuple[int, int] | None, fps: float | None, mjpg: bool
) -> None:
    assert wants_mjpg(resolution, fps) is mjpg


def test_a_missing_camera_is_a_retryable_error_with_a_hint(capfd: pytest.CaptureFixture[str]) -> None:
    source = OpenCVCamera(57)
    assert isinstance(source, Source) and source.live and source.order == "bgr"
    capfd.readouterr()
    with pytest.raises(SourceError, match="no camera at /dev/video57") as failure:
        completes(source.open, message="open() of a missing camera hung")
    assert "edge-app info" in str(failure.value)
    assert capfd.readouterr().err == ""  # OpenCV's "can't open camera by index" is silenced
    source.close()


class FakeCapture:
    """cv2.VideoCapture as a webcam driver answers it: records set() calls, serves `frames`."""

    instances: list[FakeCapture] = []
    frames: list[np.ndarray | None] = []
    opens = True

    def __init__(self, index: int, api: int = cv2.CAP_ANY) -> None:
        self.index, self.api = index, api
        self.sets: list[tuple[int, float]] = []
        self.props: dict[int, float] = {
            cv2.CAP_PROP_FRAME_WIDTH: 640,
            cv2.CAP_PROP_FRAME_HEIGHT: 480,
            cv2.CAP_PROP_FPS: 30,
        }
        self.released = False
        self._frames = list(FakeCapture.frames)
        FakeCapture.instances.append(self)

    def isOpened(self) -> bool:  # noqa: N802 - OpenCV's name
        return FakeCapture.opens and not self.released

    def set(self, prop: int, value: float) -> bool:
        self.sets.append((prop, value))
        self.props[prop] = value
        return True

    def get(self, prop: int) -> float:
        return float(self.props.get(prop, 0.0))

    def read(self) -> tuple[bool, Any]:
        frame = self._frames.pop(0) if self._frames else None
        return (frame is not None, frame)

    def release(self) -> None:
        self.released = True


def frame(value: int) -> np.ndarray:
    return np.full((48, 64, 3), value, np.uint8)


@pytest.fixture
def capture(monkeypatch: pytest.MonkeyPatch) -> type[FakeCapture]:
    monkeypatch.setattr(opencv_camera.cv2, "VideoCapture", FakeCapture)
    monkeypatch.setattr(FakeCapture, "instances", [])
    monkeypatch.setattr(FakeCapture, "frames", [frame(1), frame(2), frame(3)])
    return FakeCapture


def test_asks_for_mjpg_then_size_then_rate_then_one_buffer(capture: type[FakeCapture]) -> None:
    with OpenCVCamera(2, (1280, 720), 30.0) as source:
        cap = capture.instances[0]
        assert cap.index == 2 and cap.api == cv2.CAP_V4L2
        assert cap.sets == [
            (cv2.CAP_PROP_FOURCC, cv2.VideoWriter.fourcc(*"MJPG")),
            (cv2.CAP_PROP_FRAME_WIDTH, 1280),
            (cv2.CAP_PROP_FRAME_HEIGHT, 720),
            (cv2.CAP_PROP_FPS, 30.0),
            (cv2.CAP_PROP_BUFFERSIZE, 1),
        ]
        assert source.actual_size == (1280, 720) and source.fps == 30.0


def test_small_modes_stay_raw(capture: type[FakeCapture]) -> None:
    with OpenCVCamera(0, (640, 480), 30.0):
        assert cv2.CAP_PROP_FOURCC not in [prop for prop, _ in capture.instances[0].sets]


def test_the_frame_read_at_open_is_not_lost(capture: type[FakeCapture]) -> None:
    with OpenCVCamera(0) as source:
        values = [int(source.read()[0, 0, 0]) for _ in range(3)]
        assert values == [1, 2, 3]
        with pytest.raises(SourceError, match="camera /dev/video0 stopped"):
            source.read()


def test_a_busy_camera_that_sends_nothing_fails_open_and_is_released(capture: type[FakeCapture]) -> None:
    capture.frames = []
    with pytest.raises(SourceError, match="sent no frame") as failure:
        OpenCVCamera(0).open()
    assert "one program per camera" in str(failure.value)
    assert capture.instances[0].released


def test_close_releases_once_and_read_after_close_fails(capture: type[FakeCapture]) -> None:
    source = OpenCVCamera(0)
    source.open()
    source.close()
    source.close()
    assert capture.instances[0].released
    with pytest.raises(SourceError, match="not open"):
        source.read()
