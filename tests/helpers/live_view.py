"""Helpers to drive and watch the browser live view from tests and benchmarks.

Everything takes a base URL ("http://127.0.0.1:PORT/"), so the same checks run against an
HttpSink fed by a thread here and against a real `edge-app run --http ...` process.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pytest

from tests.helpers.waiting import wait_until

# -- feeding a sink --------------------------------------------------------------------


def synthetic_image(i: int, width: int = 640, height: int = 480) -> np.ndarray:
    """A camera-like BGR frame that changes every call: smooth gradient, a moving bar, a frame-number block."""
    x = np.linspace(0, 255, width, dtype=np.float32)
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None]
    image = np.empty((height, width, 3), np.uint8)
    image[..., 0] = x
    image[..., 1] = y
    image[..., 2] = 128
    bar = (i * 8) % width
    image[:, bar : bar + width // 16] = (255, 255, 255)
    image[: height // 8, : width // 8] = (i * 37) % 256
    return image


class Feeder(threading.Thread):
    """Calls `frame(image, None, None)` at `fps` on its own deadline schedule, like the display thread."""

    def __init__(
        self,
        frame: Callable[..., None],
        fps: float = 30.0,
        size: tuple[int, int] = (640, 480),
        images: list[Any] | None = None,
    ) -> None:
        super().__init__(name="feeder", daemon=True)
        self._frame = frame
        self._period = 1.0 / fps
        self._images = images or [
            synthetic_image(i, *size) for i in range(int(fps))
        ]  # pre-drawn: feeding costs nothing
        self.stop = threading.Event()
        self.fed = 0
        self.slowest_call_s = 0.0

    def run(self) -> None:
        due = time.monotonic()
        while not self.stop.is_set():
            start = time.monotonic()
            self._frame(self._images[self.fed % len(self._images)], None, None)
            self.slowest_call_s = max(self.slowest_call_s, time.monotonic() - start)
            self.fed += 1
            due += self._period
            self.stop.wait(max(0.0, due - time.monotonic()))

    def close(self) -> None:
        self.stop.set()
        self.join(2.0)


@dataclass
class FakeStatus:
    """A stand-in for the pipeline's status(): a dict the test edits while the server reads it."""

    data: dict[str, Any] = field(
        default_factory=lambda: {
            "healthy": True,
            "state": "running",
            "source": {"name": "synthetic", "connected": True, "outage_s": None, "reconnects": 0, "corrupt_frames": 0},
            "fps": {"video": 30.0, "inference": 28.5},
            "inference_ms": 4.2,
            "result_age_ms": 12.0,
            "labels": [
                {"index": 89, "label": "macaw", "score": 0.93},
                {"index": 90, "label": "sulphur-crested cockatoo", "score": 0.04},
            ],
            "frames": {"captured": 100, "classified": 90, "displayed": 100},
            "dropped": {"inference": 10, "display": 0},
            "errors": {"inference": 0},
            "uptime_s": 3725.0,
            "model": {"name": "mobilenet_v2_1.0_224_quant", "delegate": "cpu"},
        }
    )

    def __call__(self) -> dict[str, Any]:
        return json.loads(json.dumps(self.data))  # a fresh copy, as a real pipeline would build


# -- plain HTTP -------------------------------------------------------------------------


def get(base_url: str, path: str, timeout: float = 5.0, token: str | None = None) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body), without raising on 4xx/5xx; `token`: the live view's access token."""
    request = urllib.request.Request(
        base_url.rstrip("/") + path, headers={"Authorization": f"Bearer {token}"} if token else {}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def get_status(base_url: str, token: str | None = None) -> dict[str, Any]:
    code, _, body = get(base_url, "/api/status", token=token)
    assert code == 200, body
    return json.loads(body)


# -- MJPEG clients ------------------------------------------------------------------------


class MjpegViewer(threading.Thread):
    """Reads /stream.mjpg over a raw socket, parsing every part, and records when each frame arrived.

    `read_delay` makes it a slow viewer (it sleeps that long after each frame); `rcvbuf` shrinks
    its socket's receive buffer, so the server feels the slowness at once instead of filling it.
    """

    def __init__(
        self,
        base_url: str,
        read_delay: float = 0.0,
        timeout: float = 5.0,
        rcvbuf: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(name="mjpeg-viewer", daemon=True)
        parts = urlsplit(base_url)
        self._address = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._host = parts.netloc
        self._extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
        self._read_delay = read_delay
        self._timeout = timeout
        self._rcvbuf = rcvbuf
        self.stop = threading.Event()
        self.connected = threading.Event()
        self.content_type = ""
        self.arrivals: list[float] = []
        self.frames: list[bytes] = []  # the last few, for decoding
        self.error: BaseException | None = None
        self._sock: socket.socket | None = None

    def run(self) -> None:
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                if self._rcvbuf:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self._rcvbuf)
                sock.settimeout(self._timeout)
                sock.connect(self._address)
                self._sock = sock
                sock.sendall(f"GET /stream.mjpg HTTP/1.1\r\nHost: {self._host}\r\n{self._extra}\r\n".encode())
                stream = sock.makefile("rb")
                boundary = self._read_head(stream)
                self.connected.set()
                while not self.stop.is_set():
                    self._read_part(stream, boundary)
                    if self._read_delay:
                        self.stop.wait(self._read_delay)
        except (OSError, ValueError) as exc:
            if not self.stop.is_set():
                self.error = exc
        finally:
            self.connected.set()

    def _read_head(self, stream: Any) -> bytes:
        status = stream.readline()
        if b" 200 " not in status:
            raise ValueError(f"stream answered {status!r}")
        headers = self._read_headers(stream)
        self.content_type = headers.get("content-type", "")
        boundary = self.content_type.partition("boundary=")[2].strip().strip('"')
        if not boundary:
            raise ValueError(f"no boundary in {self.content_type!r}")
        return b"--" + boundary.encode()

    @staticmethod
    def _read_headers(stream: Any) -> dict[str, str]:
        headers: dict[str, str] = {}
        while (line := stream.readline().strip()) != b"":
            key, _, value = line.decode("latin-1").partition(":")
            headers[key.strip().lower()] = value.strip()
        return headers

    def _read_part(self, stream: Any, boundary: bytes) -> None:
        while (line := stream.readline()) and not line.startswith(boundary):
            if line.strip():
                raise ValueError(f"junk between parts: {line[:60]!r}")
        if not line:
            raise ValueError("stream ended")
        headers = self._read_headers(stream)
        if headers.get("content-type") != "image/jpeg":
            raise ValueError(f"part is {headers.get('content-type')!r}, not image/jpeg")
        data = stream.read(int(headers["content-length"]))
        if not (data.startswith(b"\xff\xd8") and data.endswith(b"\xff\xd9")):
            raise ValueError("part is not a whole JPEG")
        self.arrivals.append(time.monotonic())
        self.frames = [*self.frames[-4:], data]

    def fps_between(self, start: float, end: float) -> float:
        return sum(start <= t < end for t in self.arrivals) / (end - start)

    def close(self) -> None:
        """Hang up now (also when blocked waiting for a frame that is not coming)."""
        self.stop.set()
        if self._sock is not None:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.join(self._timeout + 1.0)


def stuck_viewer(base_url: str) -> socket.socket:
    """A client that asks for the stream and then never reads (tiny receive window: it jams at once)."""
    parts = urlsplit(base_url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((parts.hostname or "127.0.0.1", parts.port or 80))
    sock.sendall(f"GET /stream.mjpg HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n".encode())
    return sock


# -- headless Chromium ----------------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e .[test])"
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            return f"{path} not found (apt-get install chromium chromium-driver)"
    return None


@contextmanager
def chromium_driver(width: int = 1280, height: int = 900) -> Iterator[Any]:
    """Headless Debian Chromium via its own chromedriver: Selenium Manager never downloads anything."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
        f"--window-size={width},{height}",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def require_browser() -> None:
    """Skip the calling test where Chromium, chromedriver or selenium is missing.

    Under EDGE_APP_REQUIRE_TOOLS=1 (CI) it fails instead.
    """
    __tracebackhide__ = True
    from tests.helpers.needs import (
        unavailable,  # here, not at import: benchmarks use this module without pytest's conftest
    )

    reason = browser_missing()
    if reason:
        unavailable(reason)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """A headless Chromium for the module (see `require_browser`)."""
    require_browser()
    with chromium_driver() as driver:
        yield driver


_GRAB_TWICE = """
const done = arguments[arguments.length - 1], gap = arguments[0];
const img = document.getElementById("stream");
function grab() {
  const canvas = document.createElement("canvas");
  canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
  const context = canvas.getContext("2d");
  context.drawImage(img, 0, 0);
  const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
  let hash = 0;
  for (let i = 0; i < data.length; i += 61) hash = (hash * 31 + data[i]) | 0;
  return hash;
}
const first = grab();
setTimeout(() => done({width: img.naturalWidth, height: img.naturalHeight, changed: grab() !== first}), gap);
"""


def stream_playing(driver: Any, gap_ms: int = 500) -> dict[str, Any]:
    """Draws the <img> to a canvas twice, gap_ms apart: {"width", "height", "changed"}."""
    driver.set_script_timeout(10)
    return driver.execute_async_script(_GRAB_TWICE, gap_ms)


def page_labels(driver: Any) -> list[tuple[str, str]]:
    """(label, score text) pairs as the page shows them, read in one script (the list is redrawn live)."""
    rows = driver.execute_script(
        "return [...document.querySelectorAll('#labels li')]"
        ".map((li) => [li.querySelector('.name').textContent, li.querySelector('.score').textContent]);"
    )
    return [(name, score) for name, score in rows]


def expected_labels(status: dict[str, Any]) -> list[tuple[str, str]]:
    return [(item["label"], f"{100 * item['score']:.1f} %") for item in status.get("labels") or []]


def wait_for_labels(
    driver: Any, base_url: str, scores: bool = True, timeout: float = 10.0, token: str | None = None
) -> None:
    """Wait until the page shows the labels /api/status gives (names only if `scores` is False:
    a real pipeline's scores move between the page's poll and ours); fail with both if it never does.
    `token`: for a view that needs one."""

    def same() -> bool:
        shown, wanted = page_labels(driver), expected_labels(get_status(base_url, token))
        if not scores:
            shown, wanted = [(name, "") for name, _ in shown], [(name, "") for name, _ in wanted]
        return bool(wanted) and shown == wanted

    wait_until(
        same,
        timeout=timeout,
        interval=0.2,
        message=lambda: (
            f"page shows {page_labels(driver)}, /api/status has {expected_labels(get_status(base_url, token))}"
        ),
    )


def check_live_view(
    driver: Any,
    base_url: str,
    screenshot: Path | None = None,
    scores: bool = True,
    token: str | None = None,
    load: bool = True,
) -> dict[str, Any]:
    """Load the page (unless `load` is False: it is loaded already) and check it works: the video
    plays and the labels match /api/status (read with `token` where the view needs one)."""
    if load:
        driver.get(base_url)
    wait_until(
        lambda: driver.execute_script("const s = document.getElementById('stream'); return s ? s.naturalWidth : 0") > 0,
        message="the stream never showed a frame",
    )
    playing = wait_until(
        lambda: (grab := stream_playing(driver))["changed"] and grab,
        message="the video never changed between two grabs 0.5 s apart",
    )
    wait_for_labels(driver, base_url, scores, token=token)
    if screenshot is not None:
        driver.save_screenshot(str(screenshot))
    return playing
