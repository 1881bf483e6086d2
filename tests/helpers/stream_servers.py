"""Video servers on 127.0.0.1 for stream tests: a multipart MJPEG server (as edge-app's live
view serves it) that can end, stall or be killed mid-stream, a server that accepts
connections and never answers, and a camera that misbehaves a different way each connection."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BufferedIOBase

import cv2
import numpy as np

BOUNDARY = "frame"


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that hung up mid-stream is what these tests are about, not news for stderr


class MjpegServer:
    """Serves `frame(i)` for i = 0, 1, ... as multipart/x-mixed-replace JPEGs at /stream.mjpg.

    After `count` frames it closes the connection (`then="close"`) or keeps it open, silent
    (`then="stall"`). `interval` seconds between frames (waited on an Event, so kill() is prompt).
    """

    def __init__(
        self, frame: Callable[[int], np.ndarray], count: int | None = None, interval: float = 0.02, then: str = "close"
    ) -> None:
        self.frame = frame
        self.count = count
        self.interval = interval
        self.then = then
        self.killed = threading.Event()
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()
        self.server = QuietServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/stream.mjpg"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                with owner._lock:
                    owner._connections.append(self.connection)
                self.send_response(200)
                self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                i = 0
                try:
                    while (owner.count is None or i < owner.count) and not owner.killed.is_set():
                        ok, jpeg = cv2.imencode(".jpg", owner.frame(i), [cv2.IMWRITE_JPEG_QUALITY, 90])
                        head = f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {jpeg.size}\r\n\r\n"
                        self.wfile.write(head.encode() + jpeg.tobytes() + b"\r\n")
                        self.wfile.flush()
                        i += 1
                        owner.killed.wait(owner.interval)
                    if owner.then == "stall":
                        owner.killed.wait(30)
                except OSError:
                    pass  # the client went away, or kill() cut the connection

        return Handler

    def start(self) -> MjpegServer:
        self._thread.start()
        return self

    def kill(self) -> None:
        """Stop serving and cut every open connection, as when the other machine dies."""
        self.killed.set()
        self.server.shutdown()
        self.server.server_close()
        with self._lock:
            for conn in self._connections:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        self._thread.join(timeout=5)

    def __enter__(self) -> MjpegServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        if not self.killed.is_set():
            self.kill()


class SilentServer:
    """Listens on 127.0.0.1 and never answers: the kernel completes the TCP handshake, then nothing."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/stream.mjpg"

    def __enter__(self) -> SilentServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()


class FlakyMjpegServer:
    """An MJPEG camera that misbehaves in turn, one way per connection: drops the stream,
    sends garbage instead of JPEGs, goes silent, or refuses with an error."""

    def __init__(self) -> None:
        image = np.zeros((120, 160, 3), np.uint8)
        image[:, :80] = (0, 128, 255)
        self.jpeg = cv2.imencode(".jpg", image)[1].tobytes()
        self.connections = 0
        self.stop = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                mode = owner.connections % 4
                owner.connections += 1
                if mode == 3:
                    self.send_error(503, "camera busy")
                    return
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=f")
                self.end_headers()
                try:
                    owner.send(self.wfile, owner.jpeg, 40)
                    if mode == 1:
                        owner.send(self.wfile, os.urandom(3000), 30)  # corrupt frames
                    elif mode == 2:
                        owner.stop.wait(3.0)  # silent, connection open
                except OSError:
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def send(self, out: BufferedIOBase, payload: bytes, count: int) -> None:
        for _ in range(count):
            out.write(
                b"--f\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(payload) + payload + b"\r\n"
            )
            out.flush()
            if self.stop.wait(0.03):
                return

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/stream.mjpg"

    def close(self) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()
