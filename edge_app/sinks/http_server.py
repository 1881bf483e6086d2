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
from typing import Any, Callable, Sequence
from urllib.parse import parse_qs, urlsplit

from edge_app.sinks.http_address import BindAddress
from edge_app.sinks.http_hub import JpegHub
from edge_app.sinks.http_routes import JSON, Reply, Request, Route, find
from edge_app.sinks.http_status import health, status_json

log = logging.getLogger(__name__)

BOUNDARY = "edgeappframe"
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

    def __init__(
        self,
        address: BindAddress,
        hub: JpegHub,
        status: Callable[[], dict[str, Any]],
        send_timeout: float,
        routes: Sequence[Route] = (),
    ) -> None:
        self.address_family = address.family
        self.hub = hub
        self.status = status
        self.send_timeout = send_timeout
        self.routes = [*self._own_routes(), *routes]
        self._open: dict[threading.Thread, socket.socket] = {}
        self._open_lock = threading.Lock()
        super().__init__((address.host, address.port), LiveViewHandler)

    def _own_routes(self) -> list[Route]:
        page_reply = Reply(HTTPStatus.OK, page(), "text/html; charset=utf-8")
        return [
            Route("GET", "/", lambda _: page_reply),
            Route("GET", "/index.html", lambda _: page_reply),
            Route("GET", "/snapshot.jpg", lambda _: self._snapshot()),
            Route("GET", "/api/status", lambda _: self._status(health_only=False)),
            Route("GET", "/healthz", lambda _: self._status(health_only=True)),
            Route("GET", "/favicon.ico", lambda _: Reply(HTTPStatus.NO_CONTENT, b"", "image/x-icon")),
        ]

    def _snapshot(self) -> Reply:
        jpeg = self.hub.snapshot()
        if jpeg is None:
            return Reply(HTTPStatus.SERVICE_UNAVAILABLE, b"no frame yet\n")
        return Reply(HTTPStatus.OK, jpeg.data, "image/jpeg")

    def _status(self, health_only: bool) -> Reply:
        try:
            status = self.status()
        except Exception as exc:  # a bug in the pipeline's status(): say so, keep serving
            log.warning("live view: status() failed: %s", exc, exc_info=True)
            code = HTTPStatus.SERVICE_UNAVAILABLE if health_only else HTTPStatus.INTERNAL_SERVER_ERROR
            return Reply(code, f"status unavailable: {exc}\n".encode())
        if not health_only:
            return Reply(HTTPStatus.OK, status_json(status, self.hub.stats()), JSON)
        ok, reason = health(status)
        return Reply(HTTPStatus.OK if ok else HTTPStatus.SERVICE_UNAVAILABLE, f"{reason}\n".encode())

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
        self._handle(body=False)

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def _handle(self, body: bool = True) -> None:
        parts = urlsplit(self.path)
        try:
            if parts.path == "/stream.mjpg" and self.command in ("GET", "HEAD"):
                self._stream(body)
                return
            match = find(self.server.routes, self.command, parts.path)
            if match.route is None:
                self._reply(self._unrouted(match.allowed), body)
                return
            request = self._request(match.route, parts.path, parts.query)
            if isinstance(request, Reply):
                self._reply(request, body)
                return
            try:
                reply = match.route.handler(request)
            except Exception as exc:  # a bug in a feature's handler: a 500 for this request, the server goes on
                log.warning("live view: %s %s failed: %s", self.command, parts.path, exc, exc_info=True)
                reply = Reply.error(HTTPStatus.INTERNAL_SERVER_ERROR, f"internal error: {exc}")
            self._reply(reply, body)
        except OSError:  # hang-up, send timeout, or close() shutting the socket
            self.close_connection = True

    def _unrouted(self, allowed: tuple[str, ...]) -> Reply:
        if not allowed:
            return Reply(HTTPStatus.NOT_FOUND, b"not found: try /\n")
        methods = ", ".join(method for allowed_method in allowed for method in (("GET", "HEAD") if allowed_method == "GET" else (allowed_method,)))
        return Reply(HTTPStatus.METHOD_NOT_ALLOWED, f"{self.command} is not allowed here\n".encode(), headers=(("Allow", methods),))

    def _request(self, route: Route, path: str, query: str) -> Request | Reply:
        """The request with its body read, or the reply refusing it (too large, unreadable length)."""
        text = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            return Reply.error(HTTPStatus.LENGTH_REQUIRED, "send a Content-Length, not a chunked body")
        try:
            length = int(text) if text else 0
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            return Reply.error(HTTPStatus.BAD_REQUEST, "bad Content-Length")
        if length > route.max_body:
            self.close_connection = True  # the body stays unread: the connection cannot be reused
            return Reply.error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"the body may be at most {route.max_body} bytes")
        data = self.rfile.read(length) if length else b""
        if len(data) < length:
            self.close_connection = True
            return Reply.error(HTTPStatus.BAD_REQUEST, "the body ended early")
        return Request(self.command, path, parse_qs(query), dict(self.headers.items()), data)

    def _headers(self, code: int, content_type: str, length: int | None = None, extra: tuple[tuple[str, str], ...] = ()) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()

    def _reply(self, reply: Reply, body: bool = True) -> None:
        self._headers(reply.status, reply.content_type, len(reply.body), reply.headers)
        if body:
            self.wfile.write(reply.body)

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
