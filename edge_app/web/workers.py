"""Worker threads for complete requests: at most `limit` at once, each answering one request.

A thread is started per request (and ends with it), so an idle server holds none. close()
shuts every socket a worker is using, so a worker blocked on a slow client ends at once.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

from edge_app.web.accept import Conn
from edge_app.web.exchange import shutdown_quietly


class Workers:
    def __init__(self, limit: int, work: Callable[[Conn], None], on_no_thread: Callable[[], None]) -> None:
        self._slots = threading.BoundedSemaphore(limit)
        self._work = work
        self._on_no_thread = on_no_thread
        self._open: dict[threading.Thread, socket.socket] = {}
        self._lock = threading.Lock()

    def start(self, conn: Conn) -> bool:
        """A worker for `conn`; False when none is free (the acceptor keeps it waiting)."""
        if not self._slots.acquire(blocking=False):
            return False
        worker = threading.Thread(target=self._run, args=(conn,), name="http-conn", daemon=True)
        try:
            worker.start()
        except RuntimeError:  # the thread limit (the unit's TasksMax): wait, as if busy
            self._slots.release()
            self._on_no_thread()
            return False
        return True

    def _run(self, conn: Conn) -> None:
        me = threading.current_thread()
        with self._lock:
            self._open[me] = conn.sock
        try:
            self._work(conn)
        finally:
            with self._lock:
                self._open.pop(me, None)
            self._slots.release()

    def close(self, timeout: float) -> None:
        with self._lock:
            busy = list(self._open.items())
        for _, sock in busy:
            shutdown_quietly(sock)
        deadline = time.monotonic() + timeout
        for thread, _ in busy:
            thread.join(max(0.0, deadline - time.monotonic()))
