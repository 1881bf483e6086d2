"""The browser live view: annotated MJPEG video, a snapshot, and live stats, over plain HTTP.

    sink = HttpSink("8080", status=pipeline.status)   # 127.0.0.1:8080; "0.0.0.0:8080" for the LAN
    sink.start(stop)                                  # binds now: a busy port is an EdgeAppError
    print(sink.url)
    ...                                               # pipeline calls sink.frame(...) per frame
    sink.close()

Routes: / (the page), /stream.mjpg, /snapshot.jpg, /api/status, /healthz.
Nothing is encoded while nobody watches; see http_hub for the frame policy.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable

import numpy as np

from edge_app.frames import Frame, Result
from edge_app.sinks.base import Sink
from edge_app.sinks.http_address import bind_error, parse_address, url_for
from edge_app.sinks.http_hub import JpegHub, jpeg_encoder

Status = Callable[[], dict[str, Any]]


class HttpSink(Sink):
    def __init__(self, address: str, status: Status, *, quality: int = 80, send_timeout: float = 10.0) -> None:
        self.address = parse_address(address)  # fails before the model loads, not after
        self._status = status
        self._send_timeout = send_timeout
        self.hub = JpegHub(jpeg_encoder(quality))
        self._server: Any = None  # LiveViewServer, imported with http.server only when started
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self.url = ""

    def start(self, stop: threading.Event, lossless: bool = False) -> None:
        """Bind and serve. Live view only: `lossless` changes nothing, viewers always skip to the newest frame."""
        from edge_app.sinks.http_server import LiveViewServer

        try:
            self._server = LiveViewServer(self.address, self.hub, self._status, self._send_timeout)
        except OSError as exc:
            raise bind_error(self.address, exc) from None
        self._server.timeout = 0.25  # handle_request() returns this often to see the stop event
        host, port = self._server.server_address[:2]
        self.url = url_for(host, port)
        self._stop = stop
        self._threads = [
            threading.Thread(target=self.hub.run, args=(stop,), name="http-encoder", daemon=True),
            threading.Thread(target=self._serve, name="http-server", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _serve(self) -> None:
        while not (self._stop.is_set() or self.hub.closed):
            self._server.handle_request()

    def frame(self, image: np.ndarray, frame: Frame, result: Result | None) -> None:
        self.hub.put(image)

    @property
    def port(self) -> int:
        return self._server.server_address[1] if self._server else self.address.port

    def stats(self) -> dict[str, object]:
        """The "stream" part of /api/status: viewers, encoded, viewer_drops, encode_cpu_ms, jpeg_bytes."""
        return self.hub.stats()

    def close(self, timeout: float = 2.0) -> None:
        if self._server is None:
            return
        deadline = time.monotonic() + timeout
        self.hub.close()  # wakes the encoder, every viewer and the serve loop
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._server.server_close()
        self._server.close_connections(max(0.0, deadline - time.monotonic()))
        self._server = None
