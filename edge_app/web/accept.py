"""The live view's accepting thread: it holds every connection that is not being answered.

A thread per connection let about 1,000 slow clients take every descriptor, and the stdlib
accept loop then spun on EMFILE (issue 11). Here one thread accepts, runs TLS handshakes and
reads each request's headers, non-blocking, for all connections at once; only a complete
request gets a worker thread, which answers it and gives the connection back for the next
one, so an idle keep-alive connection costs no thread. Everything is bounded:
- at most `held` connections are held: past that, the oldest one still sending its headers
  (or idle) is dropped to make room, since a slow client is the oldest and a real request
  completes at once;
- headers must arrive within `header_s` of the connection (or of the previous answer), and
  be at most `header_bytes`;
- a complete request waits at most `wait_s` for a free worker, then gets 503;
- when accept() runs out of descriptors, accepting pauses for a growing while instead of
  spinning, and the oldest held connections are dropped to free some.
What is shed is logged as one warning per burst (ShedLog).
"""

from __future__ import annotations

import errno
import logging
import selectors
import socket
import ssl
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from edge_app.web.limits import Limits, ShedLog, header_end
from edge_app.web.selector_loop import SelectorLoop

log = logging.getLogger(__name__)

WAKE_S = 0.5  # longest the loop waits before it looks at the stop event
ACCEPT_BATCH = 64  # accepts per wake-up, so reading held connections is never starved
EVICT_BATCH = 32  # held connections dropped when accept() finds no descriptor left
OUT_OF_DESCRIPTORS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
TLS_HANDSHAKE = 0x16  # first byte of a TLS ClientHello record


def _reply(status: str, text: str, extra: str = "") -> bytes:
    """A whole answer sent before any request was parsed."""
    body = text.encode()
    head = f"HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {len(body)}\r\n{extra}"
    return (
        head + "X-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n"
    ).encode() + body


BUSY = _reply(
    "503 Service Unavailable", "busy: too many connections; try again in a few seconds\n", "Retry-After: 5\r\n"
)
HEADERS_TOO_LARGE = _reply("431 Request Header Fields Too Large", "the request's headers are too large\n")
USE_HTTPS = _reply("400 Bad Request", "this live view speaks HTTPS: use https:// in the address\n")


@dataclass(frozen=True)
class Conn:
    """A connection with a complete request's headers (and maybe more) already read."""

    sock: socket.socket
    peer: Any  # accept()'s address
    data: bytes = b""


@dataclass(eq=False)
class _Held:
    sock: socket.socket
    fd: int
    peer: Any
    deadline: float
    stage: str  # "hello" (TLS, first byte unseen), "handshake", "headers"
    data: bytearray = field(default_factory=bytearray)
    scanned: int = 0  # how far data was searched for the end of the headers


def close_quietly(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_WR)  # FIN after what was sent, so replies are not cut short
    except OSError:
        pass
    sock.close()


class Acceptor(SelectorLoop[Conn]):
    def __init__(
        self,
        listener: socket.socket,
        limits: Limits,
        start: Callable[[Conn], bool],
        tls: ssl.SSLContext | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`start(conn)` hands a complete request to a worker; False when none is free."""
        super().__init__()
        self._listener = listener
        self._limits = limits
        self._start = start
        self._tls = tls
        self._clock = clock
        self.shed = ShedLog(log.warning)
        self._held: dict[int, _Held] = {}  # by fd, oldest first (so by deadline)
        self._waiting: deque[tuple[Conn, float]] = deque()  # complete, no worker free yet; with their deadlines
        self._paused_until = 0.0  # accepting paused (out of descriptors) until then
        self._backoff = 0.0

    # -- other threads

    def give_back(self, conn: Conn) -> None:
        """A worker answered a request and the connection stays open: hold it for the next one."""
        if not self.hand_over(conn):
            close_quietly(conn.sock)

    @property
    def held(self) -> int:
        return len(self._held) + len(self._waiting)

    # -- the accepting thread

    def _begin(self) -> None:
        self._selector.register(self._listener, selectors.EVENT_READ, "listen")

    def _take(self, conn: Conn) -> None:
        self._hold(conn.sock, conn.peer, "headers", conn.data)

    def _ready(self, key: selectors.SelectorKey, mask: int) -> None:
        if key.data == "listen":
            self._accept()
        else:
            self._progress(key.data)

    def _after_turn(self) -> None:
        now = self._clock()
        self._expire(now)
        self._resume(now)
        self._start_waiting(now)
        self.shed.flush(now)

    def _timeout(self) -> float:
        """Until the next thing falls due (a deadline, the end of a pause, a summary), at most WAKE_S."""
        now = self._clock()
        due = [WAKE_S]
        if self._held:
            due.append(next(iter(self._held.values())).deadline - now)
        if self._waiting:
            due.append(self._waiting[0][1] - now)
        if self._paused_until:
            due.append(self._paused_until - now)
        summary = self.shed.due(now)
        if summary is not None:
            due.append(summary)
        return max(0.0, min(due))

    def _accept(self) -> None:
        for _ in range(ACCEPT_BATCH):
            try:
                sock, peer = self._listener.accept()
            except BlockingIOError:
                return
            except OSError as exc:
                if exc.errno in OUT_OF_DESCRIPTORS:
                    self._pause()
                else:  # e.g. ECONNABORTED: the client gave up while queued
                    log.debug("live view: accept failed: %s", exc)
                return
            self._backoff = 0.0
            self._hold(sock, peer, "hello" if self._tls else "headers")

    def _pause(self) -> None:
        """Out of descriptors: the listener stays readable, so retrying at once would spin."""
        now = self._clock()
        self._backoff = min(1.0, max(0.05, 2 * self._backoff))
        self._paused_until = now + self._backoff
        self._selector.unregister(self._listener)
        self.shed.note("not accepted for want of file descriptors", now)
        for _ in range(EVICT_BATCH):  # slow or idle connections make room for the ones queued behind them
            if not self._evict(now):
                break

    def _resume(self, now: float) -> None:
        if self._paused_until and now >= self._paused_until:
            self._paused_until = 0.0
            self._selector.register(self._listener, selectors.EVENT_READ, "listen")

    def _hold(self, sock: socket.socket, peer: Any, stage: str, data: bytes = b"") -> None:
        now = self._clock()
        if self.held >= self._limits.held and not self._evict(now):
            self._refuse(sock, BUSY if stage == "headers" and not self._tls else None, "refused: too many connections")
            return
        try:
            sock.setblocking(False)
            held = _Held(sock, sock.fileno(), peer, now + self._limits.header_s, stage, bytearray(data))
            self._selector.register(sock, selectors.EVENT_READ, held)
        except (OSError, ValueError):  # the socket died on the way
            sock.close()
            return
        self._held[held.fd] = held
        if stage == "headers":
            self._read(held)  # data given back may be a whole request; TLS may hold bytes select cannot see

    def _evict(self, now: float) -> bool:
        """Drop the oldest connection still sending headers or idle, to make room."""
        if not self._held:
            return False
        self._drop(next(iter(self._held.values())))
        self.shed.note("slow or idle connections dropped to make room", now)
        return True

    def _progress(self, held: _Held) -> None:
        if held.stage == "hello":
            self._hello(held)
        elif held.stage == "handshake":
            self._handshake(held)
        else:
            self._read(held)

    def _hello(self, held: _Held) -> None:
        """TLS: a plain-HTTP request gets a one-line answer instead of a broken connection."""
        try:
            first = held.sock.recv(1, socket.MSG_PEEK)
        except BlockingIOError:
            return
        except OSError:
            first = b""
        if not first:
            self._drop(held)
            return
        if first[0] != TLS_HANDSHAKE:
            self._refuse_held(held, USE_HTTPS, "")
            return
        assert self._tls is not None
        self._selector.unregister(held.sock)
        try:
            held.sock = self._tls.wrap_socket(held.sock, server_side=True, do_handshake_on_connect=False)
            self._selector.register(held.sock, selectors.EVENT_READ, held)
        except (OSError, ValueError):
            self._held.pop(held.fd, None)
            held.sock.close()
            return
        held.stage = "handshake"
        self._handshake(held)

    def _handshake(self, held: _Held) -> None:
        try:
            held.sock.do_handshake()  # type: ignore[attr-defined]
        except ssl.SSLWantReadError:
            self._selector.modify(held.sock, selectors.EVENT_READ, held)
            return
        except ssl.SSLWantWriteError:
            self._selector.modify(held.sock, selectors.EVENT_WRITE, held)
            return
        except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError: bad client, wrong cert, port scan
            log.debug("live view: TLS handshake with %s failed: %s", held.peer, exc)
            self._drop(held)
            return
        held.stage = "headers"
        self._selector.modify(held.sock, selectors.EVENT_READ, held)
        self._read(held)

    def _read(self, held: _Held) -> None:
        while True:
            end = header_end(held.data, held.scanned)
            if 0 <= end <= self._limits.header_bytes:
                self._complete(held)
                return
            if end > self._limits.header_bytes or len(held.data) > self._limits.header_bytes:  # arrived whole or not
                self._refuse_held(held, HEADERS_TOO_LARGE, "refused: headers too large")
                return
            held.scanned = max(0, len(held.data) - 2)
            try:
                chunk = held.sock.recv(16384)
            except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
                return
            except (OSError, ValueError):
                chunk = b""
            if not chunk:  # hung up
                self._drop(held)
                return
            held.data += chunk

    def _complete(self, held: _Held) -> None:
        self._selector.unregister(held.sock)
        del self._held[held.fd]
        conn = Conn(held.sock, held.peer, bytes(held.data))
        if self._waiting or not self._start(conn):
            self._waiting.append((conn, self._clock() + self._limits.wait_s))

    def _start_waiting(self, now: float) -> None:
        while self._waiting:
            conn, deadline = self._waiting[0]
            if deadline <= now:
                self._waiting.popleft()
                self._refuse(conn.sock, BUSY, "refused: no worker free in time")
            elif self._start(conn):
                self._waiting.popleft()
            else:
                return

    def _expire(self, now: float) -> None:
        while self._held:
            held = next(iter(self._held.values()))
            if held.deadline > now:
                return
            self._drop(held)
            if held.data or held.stage == "handshake":  # idle ones are normal: keep-alive, browsers' preconnects
                self.shed.note("too slow to send a request", now)

    def _drop(self, held: _Held) -> None:
        try:
            self._selector.unregister(held.sock)
        except (KeyError, ValueError):
            pass
        self._held.pop(held.fd, None)
        held.sock.close()

    def _refuse_held(self, held: _Held, reply: bytes, reason: str) -> None:
        """Answer and close. What the client sent is read first: closing on unread bytes would
        reset the connection and lose the answer."""
        if reason:
            self.shed.note(reason, self._clock())
        try:
            for _ in range(8):
                if not held.sock.recv(65536):
                    break
        except (OSError, ValueError):  # nothing more to read now (or gone)
            pass
        try:
            held.sock.send(reply)
        except (OSError, ValueError):
            pass
        self._selector.unregister(held.sock)
        self._held.pop(held.fd, None)
        close_quietly(held.sock)

    def _refuse(self, sock: socket.socket, reply: bytes | None, reason: str) -> None:
        self.shed.note(reason, self._clock())
        if reply is not None:
            try:
                sock.setblocking(False)
                sock.send(reply)
            except (OSError, ValueError):
                pass
        close_quietly(sock)

    def _close_all(self, handed: list[Conn]) -> None:
        for held in list(self._held.values()):
            self._drop(held)
        for conn, _ in self._waiting:
            conn.sock.close()
        for conn in handed:
            conn.sock.close()
        self._waiting.clear()
