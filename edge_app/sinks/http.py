"""The browser live view: annotated MJPEG video, a snapshot, and live stats, over plain HTTP.

    sink = HttpSink("8080", status=pipeline.status)   # binds 127.0.0.1:8080 now ("0.0.0.0:8080": the LAN);
    print(sink.url)                                   # a bad address or busy port is an EdgeAppError
    sink.start(stop)                                  # serves
    ...                                               # pipeline calls sink.frame(...) per frame
    sink.close()

Routes: / (the page), /stream.mjpg, /snapshot.jpg, /api/status, /healthz.
Nothing is encoded while nobody watches; see http_hub for the frame policy.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from edge_app.frames import Frame, Result
from edge_app.sinks.base import Sink
from edge_app.sinks.http_address import bind_error, parse_address, url_for
from edge_app.sinks.http_hub import JpegHub, jpeg_encoder

if TYPE_CHECKING:
    from edge_app.sinks.http_server import LiveViewServer

Status = Callable[[], dict[str, Any]]


class HttpSink(Sink):
    def __init__(self, address: str, status: Status, *, quality: int = 80, send_timeout: float = 10.0) -> None:
        """Binds at once, so a busy port is reported before the model and camera are opened."""
        from edge_app.sinks.http_server import LiveViewServer

        self.address = parse_address(address)
        self.hub = JpegHub(jpeg_encoder(quality))
        try:
            server = LiveViewServer(self.address, self.hub, status, send_timeout)
        except OSError as exc:
            raise bind_error(self.address, exc) from None
        server.timeout = 0.25  # handle_request() returns this often to see the stop event
        self._server: LiveViewServer | None = server
        host, self.port = server.server_address[:2]
        self.url = url_for(host, self.port)
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()

    def start(self, stop: threading.Event, lossless: bool = False) -> None:
        """Serve. Live view only: `lossless` changes nothing, viewers always skip to the newest frame."""
        self._stop = stop
        self._threads = [
            threading.Thread(target=self.hub.run, args=(stop,), name="http-encoder", daemon=True),
            threading.Thread(target=self._serve, name="http-server", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _serve(self) -> None:
        server = self._server
        while server is not None and not (self._stop.is_set() or self.hub.closed):
            server.handle_request()

    def frame(self, image: np.ndarray, frame: Frame, result: Result | None) -> None:
        self.hub.put(image)

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
