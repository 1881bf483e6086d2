"""The browser live view: annotated MJPEG video, a snapshot, and live stats, over plain HTTP.

    sink = HttpSink(parse_address("8080"), state.status)  # binds 127.0.0.1:8080 now; a busy port is an EdgeAppError
    print(sink.url)
    sink.start(stop)                                       # serves until stop is set
    ...                                                    # the display thread calls sink.frame(...) per frame
    sink.close()

Routes: / (the page), /stream.mjpg, /snapshot.jpg, /api/status, /healthz, plus the routes features
add (http_routes.Route, through SinkContext.routes).
Nothing is encoded while nobody watches; see http_hub for the frame policy.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from edge_app.errors import EdgeAppError
from edge_app.frames import Frame, Result
from edge_app.sinks.base import Sink
from edge_app.sinks.http_address import BindAddress, bind_error, url_for
from edge_app.sinks.http_hub import JpegHub, jpeg_encoder
from edge_app.sinks.http_routes import Route

if TYPE_CHECKING:
    from edge_app.settings import Settings
    from edge_app.sinks.http_server import LiveViewServer
    from edge_app.sinks.registry import SinkContext

Status = Callable[[], dict[str, Any]]


class HttpSink(Sink):
    def __init__(self, address: BindAddress, status: Status, *, routes: Sequence[Route] = (), quality: int = 80, send_timeout: float = 10.0) -> None:
        """Binds at once, so a busy port is reported before the camera is opened."""
        from edge_app.sinks.http_server import LiveViewServer

        self.address = address
        self.hub = JpegHub(jpeg_encoder(quality))
        try:
            server = LiveViewServer(self.address, self.hub, status, send_timeout, routes)
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


def from_settings(settings: Settings, context: SinkContext) -> HttpSink:
    """--http, or the default local view; the default moves to a free port when its own is
    taken (the log names the URL), an asked-for address never does."""
    address = settings.live_view
    assert address is not None
    try:
        return HttpSink(address, context.state.status, routes=context.routes)
    except EdgeAppError:
        if not settings.default_live_view:
            raise
        return HttpSink(replace(address, port=0), context.state.status, routes=context.routes)
