"""One HTTP/1.1 request and its answer, parsed and framed by h11, on a worker's blocking socket.

The acceptor hands over a connection whose header block has arrived whole. The block passes
the strict checks (strict.py), then h11 parses it; anything either refuses is answered with a
JSON 4xx and the connection closes, so no byte of a refused request is ever read as the next
one. A body is read only when its route wants one, within the route's `max_body` and
`limits.body_s`; a body with no length is 411, never taken as empty. What arrived past the
request stays with the connection for its next one.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus
from typing import Any

import h11

from edge_app.endpoints import Reply
from edge_app.web.accept import Conn
from edge_app.web.limits import Limits, header_end
from edge_app.web.strict import head_problem

SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy", "frame-ancestors 'none'"),
    ("Referrer-Policy", "no-referrer"),  # a ?token= link never leaks through a Referer
    ("Cross-Origin-Resource-Policy", "same-origin"),
    ("Cache-Control", "no-store"),
)
WITH_BODY = frozenset({"POST", "PUT", "PATCH"})


class Refused(Exception):
    """The request cannot be served; `reply` says why, and the connection closes after it."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.body.decode(errors="replace"))
        self.reply = reply


@dataclass(frozen=True)
class Incoming:
    method: str
    target: str  # as sent: path and query (or an absolute URL)
    version: str  # "HTTP/1.1"
    headers: dict[str, str]  # lower-case names
    local: str  # the address the client connected to
    peer: str


def head_bytes(status: int, headers: list[tuple[str, str]]) -> bytes:
    """A status line and headers, written without h11 (before a request parsed, or for a stream)."""
    lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}", *(f"{name}: {value}" for name, value in headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def reply_headers(reply: Reply, length: int | None) -> list[tuple[str, str]]:
    sized = [] if length is None else [("Content-Length", str(length))]
    return [
        ("Server", "edge-app"),
        ("Date", formatdate(usegmt=True)),
        ("Content-Type", reply.content_type),
        *sized,
        *reply.headers,
        *SECURITY_HEADERS,
    ]


def closing(reply: Reply) -> bytes:
    """A whole answer after which the connection closes."""
    headers = [*reply_headers(reply, len(reply.body)), ("Connection", "close")]
    return head_bytes(reply.status, headers) + reply.body


class Exchange:
    def __init__(self, conn: Conn, limits: Limits, timeout: float) -> None:
        self.conn = conn
        self.sock = conn.sock
        self._limits = limits
        self._timeout = timeout
        self._deadline = time.monotonic() + limits.body_s
        self._h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=limits.header_bytes)
        self.incoming: Incoming | None = None
        self.sock.settimeout(timeout)

    def request(self) -> Incoming:
        """The request's line and headers; Refused when they are not acceptable."""
        data = self.conn.data
        end = header_end(data)
        problem = head_problem(data[: end if end >= 0 else len(data)], self._limits.header_bytes)
        if problem is not None:
            raise Refused(Reply.error(problem.status, problem.message))
        self._h11.receive_data(data)
        event = self._next()
        if not isinstance(event, h11.Request):
            raise Refused(Reply.error(HTTPStatus.BAD_REQUEST, "the request ended before its headers did"))
        headers: dict[str, str] = {}
        for name, value in event.headers:
            headers[name.decode("latin-1")] = value.decode("latin-1")
        self.incoming = Incoming(
            method=event.method.decode("ascii", "replace"),
            target=event.target.decode("latin-1"),
            version=f"HTTP/{event.http_version.decode()}",
            headers=headers,
            local=str(self.sock.getsockname()[0]),
            peer=str(self.conn.peer[0]),
        )
        return self.incoming

    def body(self, max_body: int) -> bytes:
        """The whole body, for a route that takes at most `max_body` bytes; Refused otherwise."""
        assert self.incoming is not None
        length = self.incoming.headers.get("content-length")
        if length is None:
            if self.incoming.method in WITH_BODY and max_body > 0:
                raise Refused(Reply.error(HTTPStatus.LENGTH_REQUIRED, "send the body with a Content-Length"))
        elif int(length) > max_body:  # refused unread: the connection closes after the answer
            raise Refused(Reply.error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"the body may be at most {max_body} bytes"))
        chunks: list[bytes] = []
        while True:
            event = self._next(wait=True)
            if isinstance(event, h11.Data):
                chunks.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                return b"".join(chunks)

    def _next(self, wait: bool = False) -> Any:
        """h11's next event, reading from the socket (within the body deadline) while it needs data."""
        while True:
            try:
                event = self._h11.next_event()
            except h11.RemoteProtocolError as exc:
                status = exc.error_status_hint if 400 <= exc.error_status_hint < 500 else HTTPStatus.BAD_REQUEST
                raise Refused(Reply.error(status, f"bad request: {exc}")) from None
            if event is not h11.NEED_DATA or not wait:
                return event
            self._h11.receive_data(self._recv())

    def _recv(self) -> bytes:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise Refused(Reply.error(HTTPStatus.REQUEST_TIMEOUT, "the request took too long to arrive"))
        self.sock.settimeout(min(self._timeout, left))
        try:
            return self.sock.recv(65536)
        except TimeoutError:
            raise Refused(Reply.error(HTTPStatus.REQUEST_TIMEOUT, "the request took too long to arrive")) from None
        finally:
            self.sock.settimeout(self._timeout)

    def send(self, reply: Reply) -> None:
        """The answer, framed by h11 (keep-alive as the client asked); the body is left out for HEAD."""
        if self._h11.their_state is h11.SEND_BODY:
            self._next()  # a zero-length body ends at once; any other unread body closes the connection
        headers = reply_headers(reply, len(reply.body))
        if self._h11.their_state is not h11.DONE:
            headers.append(("Connection", "close"))
        out = self._h11.send(
            h11.Response(status_code=reply.status, headers=headers, reason=HTTPStatus(reply.status).phrase)
        )
        assert out is not None
        if reply.body and self.incoming is not None and self.incoming.method != "HEAD":
            out += self._h11.send(h11.Data(data=reply.body)) or b""
        out += self._h11.send(h11.EndOfMessage()) or b""
        self.sock.sendall(out)

    def stream_head(self, reply: Reply) -> bytes:
        """The status line and headers of an endless body (its end is the connection's)."""
        return head_bytes(reply.status, [*reply_headers(reply, None), ("Connection", "close")])

    def kept(self) -> Conn | None:
        """The connection, with what arrived past this request, when it may carry another."""
        if self._h11.our_state is not h11.DONE or self._h11.their_state is not h11.DONE:
            return None
        self._h11.start_next_cycle()
        leftover, closed = self._h11.trailing_data
        return None if closed else Conn(self.sock, self.conn.peer, bytes(leftover))


def shutdown_quietly(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def drain(sock: socket.socket, most: int = 8 * 65536) -> None:
    """Read what the client already sent (up to `most`): closing on unread bytes resets the
    connection, and the client would lose the answer just sent."""
    try:
        sock.settimeout(0.0)
        taken = 0
        while taken < most:
            chunk = sock.recv(65536)
            if not chunk:
                return
            taken += len(chunk)
    except (OSError, ValueError):  # nothing more to read now (or gone)
        pass
