"""The live view's HTTP server: the pieces wired together.

Connections are accepted and held by accept.Acceptor (one thread for all of them); a complete
request gets a worker (workers.py) that parses it with h11 (exchange.py), passes it through the
gate to its route (dispatch.py), answers, and gives the connection back for the next request.
A route whose reply is endless (the MJPEG stream) hands its connection to the stream writer
(streams.py) and frees its worker at once, so viewers can never starve the API.
"""

from __future__ import annotations

import logging
import re
import ssl
import threading
import time
from collections.abc import Sequence

from edge_app.address import WILDCARDS, BindAddress, machine_names
from edge_app.endpoints import Reply, Route
from edge_app.web.accept import Acceptor, Conn, close_quietly
from edge_app.web.address import listen
from edge_app.web.auth import Access, Gate
from edge_app.web.dispatch import Dispatch
from edge_app.web.exchange import Exchange, Refused, closing, drain
from edge_app.web.limits import Limits, limits_for, open_file_limit
from edge_app.web.streams import StreamWriter
from edge_app.web.workers import Workers

log = logging.getLogger(__name__)

_TOKEN_IN_LOG = re.compile(r"([?&]token=)[^&\s]*")


class LiveViewServer:
    def __init__(
        self,
        address: BindAddress,
        routes: Sequence[Route],
        *,
        access: Access,
        send_timeout: float = 10.0,
        tls: ssl.SSLContext | None = None,
        limits: Limits | None = None,
    ) -> None:
        """Binds at once (OSError when it cannot)."""
        self.send_timeout = send_timeout
        self.limits = limits or limits_for(open_file_limit())
        self.listener = listen(address, self.limits.backlog)
        self.listener.setblocking(False)
        self.server_address = self.listener.getsockname()
        names = (*machine_names(), *(() if address.host in WILDCARDS else (address.host,)))
        self.gate = Gate(access, int(self.server_address[1]), names, secure=tls is not None)
        self.dispatch = Dispatch(routes, self.gate)
        self.streams = StreamWriter(send_timeout)
        self.workers = Workers(self.limits.workers, self._work, self._no_thread)
        self.acceptor = Acceptor(self.listener, self.limits, self.workers.start, tls)

    def serve(self, stop: threading.Event) -> None:
        """Accept and hold connections until `stop` or stop(); streams are written meanwhile."""
        writer = threading.Thread(target=self.streams.run, args=(stop,), name="http-streams", daemon=True)
        writer.start()
        try:
            self.acceptor.run(stop)
        finally:
            self.streams.close()
            writer.join(2.0)

    def stop(self) -> None:
        self.acceptor.close()
        self.streams.close()

    def _no_thread(self) -> None:
        self.acceptor.shed.note("no thread could be started", time.monotonic())

    def _work(self, conn: Conn) -> None:
        """Answer one request; then the connection goes back to the acceptor, to the stream
        writer, or is closed."""
        exchange = Exchange(conn, self.limits, self.send_timeout)
        kept: Conn | None = None
        handed = False
        try:
            try:
                incoming = exchange.request()
                reply = self.dispatch.answer(exchange, incoming)
            except Refused as refused:
                log.debug("live view: refused a request from %s: %s", conn.peer, refused)
                conn.sock.sendall(closing(refused.reply))
                drain(conn.sock)
                return
            self._log(incoming.method, incoming.target, reply)
            if reply.stream is not None:
                handed = self._stream(exchange, reply, head_only=incoming.method == "HEAD")
                return
            exchange.send(reply)
            kept = exchange.kept()
            if kept is None:
                drain(conn.sock)
        except Exception:  # the client hung up, timed out, or close() shut the socket
            log.debug("live view: error serving %s", conn.peer, exc_info=True)
        finally:
            if handed:
                pass
            elif kept is not None:
                self.acceptor.give_back(kept)
            else:
                close_quietly(conn.sock)
                self.acceptor.wake()  # a worker is free for whoever waits

    def _stream(self, exchange: Exchange, reply: Reply, head_only: bool) -> bool:
        """An endless body goes to the stream writer (True); for HEAD only its headers are sent."""
        assert reply.stream is not None
        head = exchange.stream_head(reply)
        if head_only:
            reply.stream.close()
            exchange.sock.sendall(head)
            return False
        self.streams.add(exchange.sock, head + reply.body, reply.stream)
        self.acceptor.wake()
        return True

    @staticmethod
    def _log(method: str, target: str, reply: Reply) -> None:
        if log.isEnabledFor(logging.DEBUG):  # no formatting unless it is logged
            log.debug("live view: %s %s %d", method, _TOKEN_IN_LOG.sub(r"\1...", target), reply.status)

    def close(self, timeout: float) -> None:
        """Stop accepting, end every stream, shut every open connection (unblocking its worker) and join them."""
        self.acceptor.close()
        self.streams.close()
        self.listener.close()
        self.workers.close(timeout)
