"""The live view's HTTP server: routes, the MJPEG writer, and connection bookkeeping.

Stdlib only: one daemon thread per connection. Every socket has a timeout, so a client that
stops reading is dropped after `send_timeout` instead of holding its thread forever, and
close() shuts every open connection down so handler threads end at once.
"""

from __future__ import annotations

import logging
import select
import socket
import socketserver
import threading
import time
from functools import lru_cache
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any, Callable
from urllib.parse import urlsplit

from edge_app.sinks.http_address import BindAddress
from edge_app.sinks.http_hub import JpegHub
from edge_app.sinks.http_status import health, status_json

log = logging.getLogger(__name__)

BOUNDARY = "edgeappframe"
TEXT = "text/plain; charset=utf-8"
STREAM_SNDBUF = 256 * 1024  # caps how far behind a slow viewer's video can fall inside the kernel


@lru_cache(maxsize=1)
def page() -> bytes:
    return resources.files("edge_app.sinks").joinpath("page.html").read_bytes()


def mjpeg_part(jpeg: bytes) -> bytes:
    """One part, followed at once by the next boundary: browsers show a part only when they see its end."""
    head = f"Content-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n".encode()
    return head + jpeg + f"\r\n--{BOUNDARY}\r\n".encode()


def peer_closed(sock: socket.socket) -> bool:
    """True once the client has hung up (its socket reads as end-of-file)."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):
        return True


class LiveViewServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # close() below ends handler threads itself, with a deadline

    def __init__(self, address: BindAddress, hub: JpegHub, status: Callable[[], dict[str, Any]], send_timeout: float) -> None:
        self.address_family = address.family
        self.hub = hub
        self.status = status
        self.send_timeout = send_timeout
        self._open: dict[threading.Thread, socket.socket] = {}
        self._open_lock = threading.Lock()
        super().__init__((address.host, address.port), LiveViewHandler)

    def server_bind(self) -> None:
        """Bind without HTTPServer's reverse DNS lookup (getfqdn), which stalls for seconds on an offline Pi."""
        if self.address_family == socket.AF_INET6:  # "[::]:PORT" serves IPv4 too
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])

    def track(self, sock: socket.socket) -> None:
        with self._open_lock:
            self._open[threading.current_thread()] = sock

    def untrack(self) -> None:
        with self._open_lock:
            self._open.pop(threading.current_thread(), None)

    def close_connections(self, timeout: float) -> None:
        """Shut every open connection (unblocking its thread) and join the threads."""
        with self._open_lock:
            handlers = list(self._open.items())
        for _, sock in handlers:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        deadline = time.monotonic() + timeout
        for thread, _ in handlers:
            thread.join(max(0.0, deadline - time.monotonic()))

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("live view: error serving %s", client_address, exc_info=True)


class LiveViewHandler(BaseHTTPRequestHandler):
    server: LiveViewServer
    protocol_version = "HTTP/1.1"  # keep-alive for the page's status polls
    server_version = "edge-app"
    sys_version = ""

    def setup(self) -> None:
        self.timeout = self.server.send_timeout  # also ends idle keep-alive connections
        super().setup()
        self.server.track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.untrack()

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("live view: %s %s", self.address_string(), format % args)

    def do_HEAD(self) -> None:
        self.do_GET(body=False)

    def do_GET(self, body: bool = True) -> None:
        path = urlsplit(self.path).path
        try:
            if path in ("/", "/index.html"):
                self._send(HTTPStatus.OK, "text/html; charset=utf-8", page(), body)
            elif path == "/stream.mjpg":
                self._stream(body)
            elif path == "/snapshot.jpg":
                self._snapshot(body)
            elif path in ("/api/status", "/healthz"):
                self._status(path, body)
            elif path == "/favicon.ico":
                self._send(HTTPStatus.NO_CONTENT, "image/x-icon", b"", body)
            else:
                self._send(HTTPStatus.NOT_FOUND, TEXT, b"not found: try /\n", body)
        except OSError:  # hang-up, send timeout, or close() shutting the socket
            self.close_connection = True

    def _status(self, path: str, body: bool) -> None:
        try:
            status = self.server.status()
        except Exception as exc:  # a bug in the pipeline's status(): say so, keep serving
            log.warning("live view: status() failed: %s", exc, exc_info=True)
            code = HTTPStatus.SERVICE_UNAVAILABLE if path == "/healthz" else HTTPStatus.INTERNAL_SERVER_ERROR
            self._send(code, TEXT, f"status unavailable: {exc}\n".encode(), body)
            return
        if path == "/api/status":
            self._send(HTTPStatus.OK, "application/json", status_json(status, self.server.hub.stats()), body)
        else:
            ok, reason = health(status)
            self._send(HTTPStatus.OK if ok else HTTPStatus.SERVICE_UNAVAILABLE, TEXT, f"{reason}\n".encode(), body)

    def _headers(self, code: int, content_type: str, length: int | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()

    def _send(self, code: int, content_type: str, data: bytes, body: bool) -> None:
        self._headers(code, content_type, len(data))
        if body:
            self.wfile.write(data)

    def _snapshot(self, body: bool) -> None:
        jpeg = self.server.hub.snapshot()
        if jpeg is None:
            self._send(HTTPStatus.SERVICE_UNAVAILABLE, TEXT, b"no frame yet\n", body)
        else:
            self._send(HTTPStatus.OK, "image/jpeg", jpeg.data, body)

    def _stream(self, body: bool) -> None:
        self.close_connection = True  # a stream ends only when the connection does
        self._headers(HTTPStatus.OK, f"multipart/x-mixed-replace; boundary={BOUNDARY}")
        if not body:
            return
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, STREAM_SNDBUF)
        self.wfile.write(f"--{BOUNDARY}\r\n".encode())
        hub = self.server.hub
        with hub.viewer() as viewer:
            while True:
                jpeg = viewer.next()
                if jpeg is not None:
                    self.wfile.write(mjpeg_part(jpeg.data))  # raises on timeout or hang-up
                elif hub.closed or peer_closed(self.connection):
                    return
