"""The Raspberry Pi camera (CSI ribbon) through picamera2, imported only when used.

picamera2 names pixel formats the libcamera/DRM way, most significant byte first: "BGR888"
arrives as R, G, B bytes in memory (an RGB array), and "RGB888" as B, G, R. We ask for
BGR888 and declare order "rgb": the model wants RGB, so the hot path swaps nothing, and
BGR consumers (drawing, JPEG) swap once via Frame.bgr.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from edge_app.frames import ChannelOrder
from edge_app.sources.base import SourceBase, SourceError
from edge_app.sources.discovery import load_picamera2
from edge_app.sources.spec import DEFAULT_RESOLUTION

MAIN_FORMAT = "BGR888"  # RGB in memory
BUFFERS = 4  # enough to keep the sensor streaming while we hold one; fewer CMA megabytes than the default 6
READ_TIMEOUT_S = 2.0
CAMERA_HINT = "check the ribbon cable and `rpicam-hello --list-cameras`, and that no other program uses the camera"


def _shutdown(camera: Any) -> None:
    for step in (camera.stop, camera.close):
        try:
            step()
        except Exception:  # a half-opened camera may refuse either; release what we can
            pass


class PiCameraSource(SourceBase):
    live = True
    order: ChannelOrder = "rgb"

    def __init__(
        self,
        camera_num: int = 0,
        resolution: tuple[int, int] = DEFAULT_RESOLUTION,
        fps: float | None = None,
        read_timeout: float = READ_TIMEOUT_S,
    ) -> None:
        self.camera_num = camera_num
        self.resolution = resolution
        self.requested_fps = fps
        self.read_timeout = read_timeout
        self.name = f"picamera2:{camera_num}"
        self.actual_size: tuple[int, int] | None = None
        self._fps = fps
        self._camera: Any = None

    def configuration(self, camera: Any) -> dict[str, Any]:
        # FrameDurationLimits (microseconds) rather than the newer "FrameRate" alias: every picamera2 knows it.
        controls = {}
        if self.requested_fps:
            frame_us = int(round(1e6 / self.requested_fps))
            controls["FrameDurationLimits"] = (frame_us, frame_us)
        return camera.create_video_configuration(
            main={"size": tuple(self.resolution), "format": MAIN_FORMAT},
            buffer_count=BUFFERS,
            controls=controls,
        )

    def open(self) -> None:
        picamera2 = load_picamera2()  # EdgeAppError with the apt hint: not retryable
        self.close()
        try:
            camera = picamera2(self.camera_num)
        except Exception as exc:
            raise SourceError(f"cannot open Pi camera {self.camera_num} ({exc})", CAMERA_HINT) from None
        try:
            camera.configure(self.configuration(camera))
            camera.start()
            main = camera.stream_configuration("main")
            self.actual_size = tuple(main["size"])
        except Exception as exc:
            _shutdown(camera)
            w, h = self.resolution
            raise SourceError(
                f"cannot start Pi camera {self.camera_num} at {w}x{h} ({exc})", "try another --resolution"
            ) from None
        self._camera = camera

    def read(self) -> np.ndarray:
        if self._camera is None:
            raise SourceError(f"{self.name} is not open")
        done = threading.Event()
        try:  # a signal_function makes the capture asynchronous; the Event bounds the wait
            job = self._camera.capture_arrays(["main"], signal_function=lambda _job: done.set())
            if not done.wait(self.read_timeout):
                raise SourceError(f"Pi camera {self.camera_num} sent no frame for {self.read_timeout:g} s", CAMERA_HINT)
            arrays, _metadata = self._camera.wait(job)
        except SourceError:
            raise
        except Exception as exc:
            raise SourceError(f"Pi camera {self.camera_num} failed ({type(exc).__name__}: {exc})") from None
        return arrays[0]

    def close(self) -> None:
        if self._camera is not None:
            camera, self._camera = self._camera, None
            _shutdown(camera)
