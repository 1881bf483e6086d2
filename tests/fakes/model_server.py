"""A model mirror on 127.0.0.1 for download tests: serves chosen bytes per path, a 404 for
anything else, and can cut a transfer off midway (announces more bytes than it sends)."""

from __future__ import annotations

import contextlib
import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Reply:
    body: bytes
    cut_after: int | None = None  # send only this many bytes of a full Content-Length, then close


class _Handler(http.server.BaseHTTPRequestHandler):
    routes: dict[str, Reply] = {}

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        reply = self.routes.get(self.path.lstrip("/"))
        if reply is None:
            self.send_error(404, "Not Found")
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        body = reply.body if reply.cut_after is None else reply.body[: reply.cut_after]
        self.wfile.write(body)
        self.wfile.flush()
        if reply.cut_after is not None:
            self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def serve(routes: dict[str, Reply]) -> Iterator[str]:
    """Serve `routes` (path without leading slash -> Reply); yields the base URL."""
    handler = type("Handler", (_Handler,), {"routes": dict(routes)})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
