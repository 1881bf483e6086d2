"""One JPEG encoder shared by every live-view client.

The display thread drops each annotated image into a one-slot holder (O(1), never
blocks on encoding). A single encoder thread encodes the newest image, once, only while
someone wants it (a stream viewer or a pending snapshot), and publishes it under a
Condition. Each client waits for a publication newer than the one it last sent, so a slow
client skips straight to the newest frame and never holds up the encoder or the others.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)

Encoder = Callable[[np.ndarray], bytes]
WAKE_S = 0.5  # longest a waiter sleeps before re-checking the stop event


def jpeg_encoder(quality: int = 80) -> Encoder:
    def encode(image: np.ndarray) -> bytes:
        import cv2

        ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if not ok:  # pragma: no cover - imencode fails only on malformed arrays
            raise ValueError(f"cannot encode a {image.shape} {image.dtype} image as JPEG")
        return data.tobytes()

    return encode


@dataclass(frozen=True)
class Jpeg:
    pub: int  # publication number: 1, 2, 3, ... one per encode
    seq: int  # number of the put() whose image this is
    data: bytes


class Viewer:
    """One stream client's place in the publication sequence."""

    def __init__(self, hub: JpegHub, min_seq: int) -> None:
        self._hub = hub
        self.last = 0  # publication last handed out
        self.min_seq = min_seq  # the first frame must be no older than the newest at connect time
        self.drops = 0

    def next(self, timeout: float = WAKE_S) -> Jpeg | None:
        """The next newer JPEG, or None after `timeout` or once the hub is closed."""
        jpeg = self._hub.wait(self.last, self.min_seq, timeout)
        if jpeg is not None:
            skipped = jpeg.pub - self.last - 1 if self.last else 0
            self._hub.count_drops(skipped)
            self.drops += skipped
            self.last, self.min_seq = jpeg.pub, 0
        return jpeg


class JpegHub:
    def __init__(self, encode: Encoder | None = None) -> None:
        self._encode = encode or jpeg_encoder()
        self._lock = threading.Lock()
        self._work = threading.Condition(self._lock)  # the encoder waits here for images and demand
        self._published = threading.Condition(self._lock)  # clients wait here for JPEGs
        self._image: np.ndarray | None = None
        self._seq = 0
        self._tried = 0  # newest image the encoder has taken
        self._jpeg: Jpeg | None = None
        self._viewers = 0
        self._snapshots = 0
        self._viewer_drops = 0
        self._encode_cpu_s = 0.0
        self._closed = False
        self._listeners: list[Callable[[], None]] = []

    def on_publish(self, listener: Callable[[], None]) -> None:
        """Call `listener` (on the encoder's thread; it must return at once) after each new JPEG and at close."""
        with self._lock:
            self._listeners.append(listener)

    def _tell(self) -> None:
        for listener in list(self._listeners):
            listener()

    # -- producer side: the pipeline's display thread

    def put(self, image: np.ndarray) -> None:
        """Replace the newest image. O(1): keeps a reference, so the caller must not mutate it later."""
        with self._lock:
            self._image = image
            self._seq += 1
            if self._viewers or self._snapshots:
                self._work.notify()

    # -- the encoder thread

    def run(self, stop: threading.Event) -> None:
        """Encode the newest image whenever someone wants it, until `stop` or close()."""
        try:
            while True:
                with self._lock:
                    while not (self._closed or stop.is_set() or self._has_work()):
                        self._work.wait(WAKE_S)
                    if self._closed or stop.is_set():
                        return
                    image, seq = self._image, self._seq
                    assert image is not None  # work needs an image (seq > 0)
                    self._tried = seq
                if image is None:  # _has_work() saw a newer seq, so an image is set; this is for the type
                    continue
                cpu = time.thread_time()
                try:
                    data = self._encode(image)
                except Exception as exc:  # one bad image must not end the live view
                    log.warning("live view: cannot encode frame %d: %s", seq, exc)
                    continue
                cpu = time.thread_time() - cpu
                with self._lock:
                    pub = self._jpeg.pub + 1 if self._jpeg else 1
                    self._jpeg = Jpeg(pub, seq, data)
                    self._encode_cpu_s += cpu
                    self._published.notify_all()
                self._tell()
        finally:
            self.close()

    def _has_work(self) -> bool:
        return bool(self._viewers or self._snapshots) and self._seq > self._tried

    # -- client side: HTTP workers and the stream writer

    def wait(self, after_pub: int, min_seq: int, timeout: float) -> Jpeg | None:
        """A JPEG published after `after_pub` and made from image `min_seq` or newer."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while not self._closed:
                jpeg = self._jpeg
                if jpeg is not None and jpeg.pub > after_pub and jpeg.seq >= min_seq:
                    return jpeg
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._published.wait(left)
        return None

    def join(self) -> Viewer:
        """A stream client: counted, and encoding for it, until leave()."""
        with self._lock:
            self._viewers += 1
            self._work.notify()
            return Viewer(self, min_seq=self._seq)

    def leave(self) -> None:
        with self._lock:
            self._viewers -= 1

    @contextmanager
    def viewer(self) -> Iterator[Viewer]:
        """join() for as long as the block lasts."""
        viewer = self.join()
        try:
            yield viewer
        finally:
            self.leave()

    def snapshot(self, timeout: float = 2.0) -> Jpeg | None:
        """The newest image as JPEG (encoded now if nobody watches); None before the first image."""
        with self._lock:
            if self._image is None:
                return None
            self._snapshots += 1
            min_seq = self._seq
            self._work.notify()
        try:
            return self.wait(0, min_seq, timeout)
        finally:
            with self._lock:
                self._snapshots -= 1

    def count_drops(self, n: int) -> None:
        if n:
            with self._lock:
                self._viewer_drops += n

    # -- lifecycle and stats

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Wake every waiter; waits return None from now on."""
        with self._lock:
            self._closed = True
            self._work.notify_all()
            self._published.notify_all()
        self._tell()

    def stats(self) -> dict[str, object]:
        with self._lock:
            encoded = self._jpeg.pub if self._jpeg else 0
            return {
                "viewers": self._viewers,
                "encoded": encoded,
                "viewer_drops": self._viewer_drops,
                "encode_cpu_ms": round(1000 * self._encode_cpu_s / encoded, 2) if encoded else None,
                "jpeg_bytes": len(self._jpeg.data) if self._jpeg else None,
            }
