"""Mirror of picamera2.picamera2.Picamera2: the calls edge-app uses, with the real signatures.

The "sensor" sees a fixed scene, in RGB: the left third pure red, the middle pure green, the
right third pure blue, and a grey square top-left whose level is the frame number mod 256.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import cv2
import numpy as np

from .job import Job

RGB_FORMATS = ("BGR888", "RGB888", "XBGR8888", "XRGB8888")
YUV_FORMATS = ("YUV420", "YVU420")


def _align(value: int, to: int) -> int:
    return (value + to - 1) // to * to


def scene(seq: int, width: int, height: int) -> np.ndarray:
    """The RGB picture the fake sensor sees at frame `seq`."""
    rgb = np.zeros((height, width, 3), np.uint8)
    third = width // 3
    rgb[:, :third, 0] = 255
    rgb[:, third : 2 * third, 1] = 255
    rgb[:, 2 * third :, 2] = 255
    box = max(2, min(width, height) // 8)
    rgb[:box, :box] = seq % 256
    return rgb


def to_memory(rgb: np.ndarray, fmt: str, stride: int) -> np.ndarray:
    """The 2-D array real picamera2's make_array returns for `fmt`, built from an RGB picture."""
    if fmt == "BGR888":
        return np.ascontiguousarray(rgb)  # libcamera's BGR888 is R, G, B bytes in memory
    if fmt == "RGB888":
        return np.ascontiguousarray(rgb[..., ::-1])
    if fmt in ("XBGR8888", "XRGB8888"):
        pixels = rgb if fmt == "XBGR8888" else rgb[..., ::-1]
        return np.dstack([pixels, np.full(rgb.shape[:2], 255, np.uint8)])
    height, width = rgb.shape[:2]
    i420 = cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420)  # Y (h x w) then U, V (h/2 x w/2 each)
    y = i420[:height]
    chroma = i420[height:].reshape(2, height // 2, width // 2)
    if fmt == "YVU420":
        chroma = chroma[::-1]
    padded_y = np.zeros((height, stride), np.uint8)
    padded_y[:, :width] = y
    padded_c = np.zeros((2, height // 2, stride // 2), np.uint8)
    padded_c[:, :, : width // 2] = chroma
    return np.concatenate([padded_y.ravel(), padded_c.ravel()]).reshape(height * 3 // 2, stride)


class Picamera2:
    # --- test knobs ---------------------------------------------------------------------
    cameras_info: list[dict[str, Any]] = [
        {"Model": "imx708", "Location": 2, "Rotation": 180, "Id": "/base/soc/i2c0mux/i2c@1/imx708@1a", "Num": 0},
    ]
    sensor_resolution = (4608, 2592)
    fail_start = False  # start() raises, as when the camera is unplugged between open and start
    stall_after: int | None = None  # frames delivered before the camera stops sending
    instances: list[Picamera2] = []

    # --- the real API -----------------------------------------------------------------------
    @staticmethod
    def global_camera_info() -> list:
        return [dict(info) for info in Picamera2.cameras_info]

    def __init__(self, camera_num=0, verbose_console=None, tuning=None):
        if not (isinstance(camera_num, int) and 0 <= camera_num < len(Picamera2.cameras_info)):
            raise RuntimeError("Camera __init__ sequence did not complete.")
        self.camera_idx = camera_num
        self.is_open = True
        self.started = False
        self.camera_config: dict | None = None
        self.frames = 0
        self.calls: list[str] = []  # for tests: the order of lifecycle calls
        Picamera2.instances.append(self)

    def create_video_configuration(
        self,
        main=None,
        lores=None,
        raw=None,
        transform=None,
        colour_space=None,
        buffer_count=6,
        controls=None,
        display="main",
        encode="main",
        queue=True,
    ) -> dict:
        if not self.is_open:
            raise RuntimeError("Camera not opened")
        main = self._make_initial_stream_config({"format": "XBGR8888", "size": (1280, 720)}, main or {})
        self.align_stream(main, optimal=False)
        lores = self._make_initial_stream_config({"format": "YUV420", "size": main["size"]}, lores)
        if lores is not None:
            self.align_stream(lores, optimal=False)
        raw = self._make_initial_stream_config({"format": "SBGGR10_CSI2P", "size": main["size"]}, raw or {})
        return {
            "use_case": "video",
            "transform": transform,
            "colour_space": colour_space,
            "buffer_count": buffer_count,
            "queue": queue,
            "main": main,
            "lores": lores,
            "raw": raw,
            "controls": dict(controls or {}),
            "display": display,
            "encode": encode,
        }

    @staticmethod
    def _make_initial_stream_config(stream_config: dict, updates: dict | None) -> dict | None:
        if updates is None:
            return None
        for key, value in updates.items():
            if key not in ("format", "size"):
                raise ValueError(f"Bad key {key!r}: valid stream configuration keys are ('format', 'size')")
            stream_config[key] = value
        return stream_config

    @staticmethod
    def align_stream(stream_config: dict, optimal=True) -> None:
        align = 2 if not optimal else 64 if stream_config["format"] in YUV_FORMATS else 32
        w, h = stream_config["size"]
        stream_config["size"] = (w - w % align, h - h % 2)

    def configure(self, camera_config="preview") -> None:
        if self.started:
            raise RuntimeError("Camera must be stopped before configuring")
        if not isinstance(camera_config, dict):
            camera_config = self.create_video_configuration()
        config = {k: (dict(v) if isinstance(v, dict) else v) for k, v in camera_config.items()}
        self._check_stream(config["main"], "main")
        if config["lores"] is not None:
            self._check_stream(config["lores"], "lores")
            if config["lores"]["format"] not in YUV_FORMATS:
                raise RuntimeError("lores stream must be YUV")
            (mw, mh), (lw, lh) = config["main"]["size"], config["lores"]["size"]
            if lw > mw or lh > mh:
                raise RuntimeError("lores stream dimensions may not exceed main stream")
        for name in ("main", "lores"):
            stream = config[name]
            if stream is not None:  # libcamera fills these in; the ISP pads rows to 64 bytes
                w, h = stream["size"]
                bpp = {"BGR888": 3, "RGB888": 3, "XBGR8888": 4, "XRGB8888": 4}.get(stream["format"], 1)
                stream["stride"] = _align(w * bpp, 64)
                stream["framesize"] = stream["stride"] * h * 3 // 2 if bpp == 1 else stream["stride"] * h
        self.camera_config = config
        self.calls.append("configure")

    @staticmethod
    def _check_stream(stream: dict, name: str) -> None:
        fmt, size = stream.get("format"), stream.get("size")
        if fmt not in RGB_FORMATS + YUV_FORMATS:
            raise RuntimeError(f"Bad format {fmt} in stream {name}")
        if type(size) is not tuple or len(size) != 2:
            raise RuntimeError(f"size in {name} stream should be (width, height)")
        if size[0] % 2 or size[1] % 2:
            raise RuntimeError("width and height should be even")

    def camera_configuration(self) -> dict | None:
        return self.camera_config

    def stream_configuration(self, name="main") -> dict:
        return self._configured()[name]

    def _configured(self) -> dict:
        if self.camera_config is None:
            raise RuntimeError("Camera has not been configured")
        return self.camera_config

    def start(self, config=None, show_preview=False) -> None:
        if config is not None:
            self.configure(config)
        if self.camera_config is None:
            raise RuntimeError("Camera has not been configured")
        if Picamera2.fail_start:
            raise RuntimeError("Failed to start camera: Device or resource busy")
        self.started = True
        self.calls.append("start")

    def stop(self) -> None:
        if self.started:
            self.started = False
            self.calls.append("stop")

    def close(self) -> None:
        if not self.is_open:
            return
        self.stop()
        self.is_open = False
        self.calls.append("close")

    def _make_array(self, name: str) -> np.ndarray:
        stream = self._configured().get(name)
        if stream is None:
            raise RuntimeError(f"Stream {name!r} is not defined")
        w, h = stream["size"]
        return to_memory(scene(self.frames, w, h), stream["format"], stream["stride"])

    def capture_arrays_(self, names) -> tuple:
        if not self.started or (Picamera2.stall_after is not None and self.frames >= Picamera2.stall_after):
            return (False, None)  # no completed request: the job waits for one that never comes
        result = ([self._make_array(name) for name in names], {"SensorTimestamp": self.frames})
        self.frames += 1
        return (True, result)

    def capture_arrays(self, names=("main",), wait=None, signal_function=None):
        return self.dispatch_functions([partial(self.capture_arrays_, names)], wait, signal_function)

    def capture_array(self, name="main", wait=None, signal_function=None):
        def one() -> tuple:
            done, result = self.capture_arrays_([name])
            return (done, result[0][0] if done else None)

        return self.dispatch_functions([one], wait, signal_function)

    def dispatch_functions(self, functions, wait, signal_function=None, immediate=False):
        """The fake event loop runs a job at once when a frame is available, else never."""
        if wait is None:
            wait = signal_function is None
        job = Job(functions, signal_function)
        if job.execute():
            job.signal()
        elif wait:
            raise RuntimeError("fake picamera2: a blocking capture would hang here (no frames)")
        return job.get_result() if wait else job

    def wait(self, job, timeout=None):
        return job.get_result(timeout=timeout)
