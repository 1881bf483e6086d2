"""The live view's HTTP server: routes, the access gate, the MJPEG writer, and worker threads.

Connections are accepted and held by http_accept (one thread for all of them); a complete
request gets a worker thread that answers it and gives the connection back, so threads are
bounded by `limits.workers` and descriptors by `limits.held`. Every request passes the gate
(http_auth) before its route, whatever the route, so routes that features add later are
protected too; only routes marked public skip the token. Every socket has a timeout, so a
client that stops reading is dropped after `send_timeout`, and close() shuts every open
connection down so worker threads end at once.
"""

from __future__ import annotations

import html
import logging
import re
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import cache
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

from edge_app.sinks.http_accept import Acceptor, Conn, close_quietly
from edge_app.sinks.http_address import WILDCARDS, BindAddress, listen, machine_names
from edge_app.sinks.http_auth import NEEDS_TOKEN, Access, Gate, Seen, Verdict
from edge_app.sinks.http_hub import JpegHub
from edge_app.sinks.http_limits import Limits, limits_for, open_file_limit
from edge_app.sinks.http_routes import JSON, Reply, Request, Route, find
from edge_app.sinks.http_status import health, status_json

log = logging.getLogger(__name__)

BOUNDARY = "edgeappframe"
STREAM_SNDBUF = 256 * 1024  # caps how far behind a slow viewer's video can fall inside the kernel
HTML = "text/html; charset=utf-8"
SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy", "frame-ancestors 'none'"),
    ("Referrer-Policy", "no-referrer"),  # a ?token= link never leaks through a Referer
    ("Cross-Origin-Resource-Policy", "same-origin"),
    ("Cache-Control", "no-store"),
)
_TOKEN_IN_LOG = re.compile(r"([?&]token=)[^&\s]*")


@cache
def resource(name: str) -> bytes:
    return resources.files("edge_app.sinks").joinpath(name).read_bytes()


def page() -> bytes:
    return resource("page.html")


def login_page(message: str) -> bytes:
    """The token form (login.html), with why it is shown."""
    return resource("login.html").replace(b"<!--message-->", html.escape(message).encode())


def mjpeg_part(jpeg: bytes) -> bytes:
    """One part, followed at once by the next boundary: browsers show a part only when they see its end."""
    head = f"Content-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n".encode()
    return head + jpeg + f"\r\n--{BOUNDARY}\r\n".encode()


def peer_closed(sock: socket.socket) -> bool:
    """True once the client has hung up. Looks at the raw bytes (poll, so any descriptor number
    works): end-of-file, or under TLS anything at all, as a stream viewer sends nothing but its close."""
    try:
        poller = select.poll()
        poller.register(sock.fileno(), select.POLLIN)
        if not poller.poll(0):
            return False
        data = socket.socket.recv(sock, 1, socket.MSG_PEEK)  # below TLS, if any
        return data == b"" or isinstance(sock, ssl.SSLSocket)
    except (OSError, ValueError):
        return True


class RequestReader:
    """The handler's rfile: first the bytes the acceptor read (the whole header block), then the
    socket, the whole body within `body_s`. Bytes read past this request stay for the next one."""

    def __init__(self, sock: socket.socket, data: bytes, timeout: float, body_s: float) -> None:
        self._sock = sock
        self._buffer = bytearray(data)
        self._timeout = timeout
        self._deadline = time.monotonic() + body_s
        self.closed = False

    def _fill(self) -> bool:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the request took too long to arrive")
        self._sock.settimeout(min(self._timeout, left))
        try:
            chunk = self._sock.recv(65536)
        finally:
            self._sock.settimeout(self._timeout)
        self._buffer += chunk
        return bool(chunk)

    def _take(self, n: int) -> bytes:
        data = bytes(self._buffer[:n])
        del self._buffer[:n]
        return data

    def readline(self, limit: int = -1) -> bytes:
        while True:
            end = self._buffer.find(b"\n")
            if end >= 0 and (limit < 0 or end < limit):
                return self._take(end + 1)
            if 0 <= limit <= len(self._buffer):
                return self._take(limit)
            if not self._fill():
                return self._take(len(self._buffer))

    def read(self, size: int = -1) -> bytes:
        if size < 0:  # http.server never reads to the end; nor do we
            return self._take(len(self._buffer))
        while len(self._buffer) < size and self._fill():
            pass
        return self._take(min(size, len(self._buffer)))

    def leftover(self) -> bytes:
        return bytes(self._buffer)

    def close(self) -> None:
        self.closed = True


class SocketWriter:
    """The handler's wfile: every write goes out whole, at once (MJPEG frames must not wait in a buffer)."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self.closed = False

    def write(self, data: bytes) -> int:
        self._sock.sendall(data)
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


class LiveViewServer:
    def __init__(
        self,
        address: BindAddress,
        hub: JpegHub,
        status: Callable[[], dict[str, Any]],
        send_timeout: float,
        routes: Sequence[Route] = (),
        *,
        access: Access,
        tls: ssl.SSLContext | None = None,
        limits: Limits | None = None,
    ) -> None:
        """Binds at once (OSError when it cannot)."""
        self.hub = hub
        self.status = status
        self.send_timeout = send_timeout
        self.limits = limits or limits_for(open_file_limit())
        self.routes = [*self._own_routes(), *routes]
        self.listener = listen(address, self.limits.backlog)
        self.listener.setblocking(False)
        self.server_address = self.listener.getsockname()
        names = (*machine_names(), *(() if address.host in WILDCARDS else (address.host,)))
        self.gate = Gate(access, int(self.server_address[1]), names, secure=tls is not None)
        self.acceptor = Acceptor(self.listener, self.limits, self._start, tls)
        self._slots = threading.BoundedSemaphore(self.limits.workers)
        self._open: dict[threading.Thread, socket.socket] = {}
        self._open_lock = threading.Lock()

    def _own_routes(self) -> list[Route]:
        page_reply = Reply(HTTPStatus.OK, page(), HTML)
        return [
            Route("GET", "/", lambda _: page_reply),
            Route("GET", "/index.html", lambda _: page_reply),
            Route("GET", "/snapshot.jpg", lambda _: self._snapshot()),
            Route("GET", "/api/status", lambda _: self._status(health_only=False)),
            Route("GET", "/healthz", lambda _: self._status(health_only=True), public=True),
            Route("GET", "/favicon.ico", lambda _: Reply(HTTPStatus.NO_CONTENT, b"", "image/x-icon"), public=True),
        ]

    def _snapshot(self) -> Reply:
        jpeg = self.hub.snapshot()
        if jpeg is None:
            return Reply(HTTPStatus.SERVICE_UNAVAILABLE, b"no frame yet\n")
        return Reply(HTTPStatus.OK, jpeg.data, "image/jpeg")

    def _status(self, health_only: bool) -> Reply:
        """/healthz is public: where a token is needed it says only ok or unhealthy, no reasons."""
        terse = health_only and self.gate.required
        try:
            status = self.status()
        except Exception as exc:  # a bug in the pipeline's status(): say so, keep serving
            log.warning("live view: status() failed: %s", exc, exc_info=True)
            code = HTTPStatus.SERVICE_UNAVAILABLE if health_only else HTTPStatus.INTERNAL_SERVER_ERROR
            return Reply(code, b"unhealthy\n" if terse else f"status unavailable: {exc}\n".encode())
        if not health_only:
            return Reply(HTTPStatus.OK, status_json(status, self.hub.stats()), JSON)
        ok, reason = health(status)
        text = ("ok" if ok else "unhealthy") if terse else reason
        return Reply(HTTPStatus.OK if ok else HTTPStatus.SERVICE_UNAVAILABLE, f"{text}\n".encode())

    # -- serving

    def serve(self, stop: threading.Event) -> None:
        """Accept and hold connections until `stop` or stop()."""
        self.acceptor.run(stop)

    def stop(self) -> None:
        self.acceptor.close()

    def _start(self, conn: Conn) -> bool:
        """A worker thread for one complete request (called by the acceptor); False when none is free."""
        if not self._slots.acquire(blocking=False):
            return False
        worker = threading.Thread(target=self._work, args=(conn,), name="http-conn", daemon=True)
        try:
            worker.start()
        except RuntimeError:  # the thread limit (the unit's TasksMax): wait, as if busy
            self._slots.release()
            self.acceptor.shed.note("no thread could be started", time.monotonic())
            return False
        return True

    def _work(self, conn: Conn) -> None:
        kept: Conn | None = None
        with self._open_lock:
            self._open[threading.current_thread()] = conn.sock
        try:
            # typeshed wants a socket and a BaseServer; the handler only uses Conn's makefile() and our server
            kept = LiveViewHandler(conn, conn.peer, self).kept()  # type: ignore[arg-type]
        except Exception:  # the client hung up, timed out, or spoke nonsense
            log.debug("live view: error serving %s", conn.peer, exc_info=True)
        finally:
            with self._open_lock:
                self._open.pop(threading.current_thread(), None)
            self._slots.release()
            if kept is not None:
                self.acceptor.give_back(kept)
            else:
                close_quietly(conn.sock)
                self.acceptor.wake()  # a worker is free for whoever waits

    def close(self, timeout: float) -> None:
        """Stop accepting, shut every open connection (unblocking its thread) and join the threads."""
        self.acceptor.close()
        self.listener.close()
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


class LiveViewHandler(BaseHTTPRequestHandler):
    """Answers exactly one request; the acceptor holds the connection between requests."""

    server: LiveViewServer  # type: ignore[assignment]
    request: Conn
    protocol_version = "HTTP/1.1"  # keep-alive for the page's status polls
    server_version = "edge-app"
    sys_version = ""

    def setup(self) -> None:
        self.connection = self.request.sock
        self.connection.settimeout(self.server.send_timeout)  # also ends a stream nobody reads
        self.rfile = RequestReader(
            self.connection, self.request.data, self.server.send_timeout, self.server.limits.body_s
        )  # type: ignore[assignment]
        self.wfile = SocketWriter(self.connection)  # type: ignore[assignment]

    def handle(self) -> None:
        self.close_connection = True
        self.handle_one_request()

    def kept(self) -> Conn | None:
        """The connection, to be held for its next request; None when it is to be closed."""
        if self.close_connection:
            return None
        return Conn(self.connection, self.client_address, self.rfile.leftover())  # type: ignore[attr-defined]

    def end_headers(self) -> None:
        for name, value in SECURITY_HEADERS:  # on every answer, also http.server's own errors
            self.send_header(name, value)
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        if log.isEnabledFor(
            logging.DEBUG
        ):  # http.server calls this for every answer: no formatting unless it is logged
            log.debug("live view: %s %s", self.address_string(), _TOKEN_IN_LOG.sub(r"\1...", format % args))

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
        self._body_read = False
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        headers = {name.lower(): value for name, value in self.headers.items()}  # read by the gate and the route alike
        try:
            match = find(self.server.routes, self.command, parts.path)
            verdict = self.server.gate.check(
                self._seen(parts.path, query, headers, public=match.route is not None and match.route.public)
            )
            if not verdict.ok:
                self._refuse(verdict, body)
                return
            if parts.path == "/stream.mjpg" and self.command in ("GET", "HEAD"):
                self._stream(body)
                return
            if match.route is None:
                self._reply(self._unrouted(match.allowed), body)
                return
            request = self._request(match.route, parts.path, query, headers)
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

    def _seen(self, path: str, query: dict[str, list[str]], headers: dict[str, str], public: bool) -> Seen:
        return Seen(
            method=self.command,
            path=path,
            query=query,
            headers=headers,
            local=str(self.connection.getsockname()[0]),
            peer=str(self.client_address[0]),
            version=self.request_version,
            public=public,
        )

    def _refuse(self, verdict: Verdict, body: bool) -> None:
        """The gate's answer: the token form for a browser, JSON for the rest, or the 303 of a good link."""
        headers: list[tuple[str, str]] = []
        if verdict.location:
            self._reply(
                Reply(verdict.status, b"", headers=(("Location", verdict.location), ("Set-Cookie", verdict.cookie))),
                body,
            )
            return
        if verdict.status == HTTPStatus.UNAUTHORIZED:
            headers.append(("WWW-Authenticate", 'Bearer realm="edge-app"'))
        if verdict.retry_after:
            headers.append(("Retry-After", str(verdict.retry_after)))
        if verdict.login and self.command == "GET" and "text/html" in self.headers.get("Accept", ""):
            reply = Reply(verdict.status, login_page("" if verdict.message == NEEDS_TOKEN else verdict.message), HTML)
        else:
            reply = Reply.error(verdict.status, verdict.message)
        self._reply(replace(reply, headers=tuple(headers)), body)

    def _unrouted(self, allowed: tuple[str, ...]) -> Reply:
        if not allowed:
            return Reply(HTTPStatus.NOT_FOUND, b"not found: try /\n")
        methods = ", ".join(
            method
            for allowed_method in allowed
            for method in (("GET", "HEAD") if allowed_method == "GET" else (allowed_method,))
        )
        return Reply(
            HTTPStatus.METHOD_NOT_ALLOWED,
            f"{self.command} is not allowed here\n".encode(),
            headers=(("Allow", methods),),
        )

    def _request(
        self, route: Route, path: str, query: dict[str, list[str]], headers: dict[str, str]
    ) -> Request | Reply:
        """The request with its body read, or the reply refusing it (too large, unreadable length)."""
        text = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding"):
            return Reply.error(HTTPStatus.LENGTH_REQUIRED, "send a Content-Length, not a chunked body")
        try:
            length = int(text) if text else 0
        except ValueError:
            length = -1
        if length < 0:
            return Reply.error(HTTPStatus.BAD_REQUEST, "bad Content-Length")
        if length > route.max_body:  # refused unread (see _reply)
            return Reply.error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"the body may be at most {route.max_body} bytes")
        data = self.rfile.read(length) if length else b""
        if len(data) < length:
            return Reply.error(HTTPStatus.BAD_REQUEST, "the body ended early")
        self._body_read = True
        return Request(self.command, path, query, headers, data)

    def _headers(
        self, code: int, content_type: str, length: int | None = None, extra: tuple[tuple[str, str], ...] = ()
    ) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        if length is not None:
            self.send_header("Content-Length", str(length))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()

    def _reply(self, reply: Reply, body: bool = True) -> None:
        if not self._body_read and (
            self.headers.get("Content-Length", "0").strip() != "0" or self.headers.get("Transfer-Encoding")
        ):
            # answered with its body unread (refused, 404, 405, 413): the connection cannot carry another request
            self.close_connection = True
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
