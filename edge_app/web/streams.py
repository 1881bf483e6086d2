"""Every endless body (the MJPEG viewers), written by one thread without a worker each.

A viewer that never reads once took a worker thread for as long as its socket let it block, so
300 of them took all 64 and the API starved (issue 22). Here a viewer costs a descriptor and a
few bytes: its socket is non-blocking, written when the selector says it has room, and it asks
its stream for the next part only once the last one is out, so a slow viewer skips to the
newest frame (the stream's latest-value slot) and never holds up the others. A viewer whose
part has made no progress for `send_timeout` is dropped, as is one that hangs up.
"""

from __future__ import annotations

import logging
import selectors
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass

from edge_app.endpoints import Stream
from edge_app.web.selector_loop import SelectorLoop

log = logging.getLogger(__name__)

WAKE_S = 0.5  # longest the loop waits before it looks at the stop event
STREAM_SNDBUF = 256 * 1024  # caps how far behind a slow viewer's video can fall inside the kernel
READ = selectors.EVENT_READ
BOTH = selectors.EVENT_READ | selectors.EVENT_WRITE


@dataclass(eq=False)
class _Out:
    sock: socket.socket
    stream: Stream
    pending: memoryview  # what is left of the part being written
    since: float  # when it last made progress (or got a part)
    mask: int = 0


class StreamWriter(SelectorLoop[_Out]):
    def __init__(self, send_timeout: float, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._send_timeout = send_timeout
        self._clock = clock
        self._outs: set[_Out] = set()

    def add(self, sock: socket.socket, head: bytes, stream: Stream) -> None:
        """Take over `sock` (from a worker): `head` first, then the stream's parts until it ends."""
        out = _Out(sock, stream, memoryview(head), self._clock())
        if not self.hand_over(out):
            self._end(out)

    @property
    def count(self) -> int:
        with self._lock:
            return len(self._outs) + len(self._handed)

    def _ready(self, key: selectors.SelectorKey, mask: int) -> None:
        out = key.data
        if out not in self._outs:
            return
        if mask & READ and self._hung_up(out):
            self._drop(out)
        elif mask & selectors.EVENT_WRITE:
            self._write(out)

    def _after_turn(self) -> None:
        self._refill()
        self._expire()

    def _timeout(self) -> float:
        now = self._clock()
        due = [out.since + self._send_timeout - now for out in self._outs if out.pending]
        return max(0.0, min([WAKE_S, *due]))

    def _take(self, out: _Out) -> None:
        try:
            out.sock.setblocking(False)
            out.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, STREAM_SNDBUF)
            self._selector.register(out.sock, BOTH, out)
        except (OSError, ValueError):  # gone on the way
            self._end(out)
            return
        out.mask = BOTH
        self._outs.add(out)
        self._write(out)

    def _write(self, out: _Out) -> None:
        while out.pending:
            try:
                sent = out.sock.send(out.pending)
            except (BlockingIOError, ssl.SSLWantWriteError, ssl.SSLWantReadError):
                break
            except (OSError, ValueError):  # reset, or shut by close()
                self._drop(out)
                return
            out.pending = out.pending[sent:]
            out.since = self._clock()
            if not out.pending:
                self._next_part(out)
        self._watch(out, BOTH if out.pending else READ)

    def _next_part(self, out: _Out) -> None:
        part = out.stream.next_part()
        if part:
            out.pending = memoryview(part)
            out.since = self._clock()

    def _refill(self) -> None:
        for out in list(self._outs):
            if not out.pending:
                self._next_part(out)
                if out.pending:
                    self._write(out)

    def _watch(self, out: _Out, mask: int) -> None:
        if out.mask != mask and out in self._outs:
            self._selector.modify(out.sock, mask, out)
            out.mask = mask

    def _hung_up(self, out: _Out) -> bool:
        """A viewer sends nothing after its request but its close (under TLS, a close_notify)."""
        try:
            data = socket.socket.recv(out.sock, 4096, socket.MSG_PEEK)  # below TLS, if any
        except (BlockingIOError, InterruptedError):
            return False
        except (OSError, ValueError):
            return True
        if not data or isinstance(out.sock, ssl.SSLSocket):
            return True
        try:
            socket.socket.recv(out.sock, len(data))  # a plain client's stray bytes: read and ignored
        except OSError:
            return True
        return False

    def _expire(self) -> None:
        """Drop the viewers whose part made no progress for send_timeout. The selector says a
        socket is writable only once much of its buffer is free, so a slow reader can look
        stuck: a write is tried first, and what it takes counts as progress."""
        now = self._clock()
        for out in [out for out in self._outs if out.pending and now - out.since > self._send_timeout]:
            self._write(out)
            if out in self._outs and out.pending and self._clock() - out.since > self._send_timeout:
                log.debug("live view: a stream viewer read nothing for %.1f s: dropped", self._send_timeout)
                self._drop(out)

    def _drop(self, out: _Out) -> None:
        self._outs.discard(out)
        try:
            self._selector.unregister(out.sock)
        except (KeyError, ValueError):
            pass
        self._end(out)

    @staticmethod
    def _end(out: _Out) -> None:
        out.stream.close()
        try:
            out.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        out.sock.close()

    def _close_all(self, handed: list[_Out]) -> None:
        for out in [*self._outs, *handed]:
            self._end(out)
        self._outs.clear()
