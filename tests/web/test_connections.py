"""How the live view holds connections (http_accept), with small limits so each rule shows at
once: a whole-header deadline, a cap on held connections that drops the oldest slow one, idle
keep-alive without a thread, a bounded number of workers, oversized headers, pipelining."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager

import pytest

from edge_app.address import parse_address
from edge_app.endpoints import Reply, Request, Route
from edge_app.web.limits import Limits
from edge_app.web.sink import HttpSink
from tests.helpers.live_view import FakeStatus, wait_until


@contextmanager
def serving(limits: Limits, routes: Sequence[Route] = ()) -> Iterator[HttpSink]:
    sink = HttpSink(parse_address("127.0.0.1:0"), FakeStatus(), limits=limits, routes=routes)
    sink.start(threading.Event())
    try:
        yield sink
    finally:
        sink.close()


@pytest.fixture
def caplog_warnings(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.WARNING, logger="edge_app.web.accept")
    yield caplog


def request(port: int, path: str = "/api/status") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()


def answer(sock: socket.socket) -> bytes:
    """One whole answer with a Content-Length (or what came before the server hung up)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


def get(port: int, path: str = "/api/status") -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request(port, path))
        return answer(sock)


def hung_up(sock: socket.socket, timeout: float) -> bool:
    sock.settimeout(timeout)
    try:
        while sock.recv(65536):
            pass
        return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def slow_client(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(f"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Slow: ".encode())  # never finishes
    return sock


def test_a_client_whose_headers_never_finish_is_dropped_at_the_deadline(
    caplog_warnings: pytest.LogCaptureFixture,
) -> None:
    with serving(Limits(header_s=1.0)) as sink:
        slow = slow_client(sink.port)
        slow.sendall(b"a")  # trickling: each byte arrives well within any socket timeout
        assert get(sink.port).startswith(b"HTTP/1.1 200")  # others are served meanwhile
        assert hung_up(slow, timeout=10.0)
        assert wait_until(lambda: "1 too slow to send a request" in caplog_warnings.text, timeout=5.0)
        slow.close()


def test_over_the_cap_the_oldest_slow_client_makes_room_for_a_real_request(
    caplog_warnings: pytest.LogCaptureFixture,
) -> None:
    with serving(Limits(held=4)) as sink:
        slow = [slow_client(sink.port) for _ in range(4)]
        assert wait_until(lambda: sink.held == 4, timeout=10)  # all four held: the cap is reached
        assert get(sink.port).startswith(b"HTTP/1.1 200")
        assert hung_up(slow[0], timeout=5.0) and not hung_up(slow[3], timeout=0.3)
        assert "1 slow or idle connections dropped to make room" in caplog_warnings.text
        for sock in slow:
            sock.close()


def test_idle_kept_alive_connections_hold_no_thread_and_are_reused() -> None:
    with serving(Limits()) as sink, ExitStack() as stack:
        clients = [
            stack.enter_context(socket.create_connection(("127.0.0.1", sink.port), timeout=10)) for _ in range(30)
        ]
        for sock in clients:
            sock.sendall(request(sink.port))
            assert answer(sock).startswith(b"HTTP/1.1 200")
        assert wait_until(lambda: not [t for t in threading.enumerate() if t.name == "http-conn"])
        for sock in clients:  # the same connections, a second request each
            sock.sendall(request(sink.port, "/healthz"))
            assert answer(sock).endswith(b"\r\n\r\nok\n")


def test_pipelined_requests_are_answered_in_order() -> None:
    with serving(Limits()) as sink:
        with socket.create_connection(("127.0.0.1", sink.port), timeout=10) as sock:
            sock.sendall(request(sink.port, "/healthz") + request(sink.port, "/nope"))
            first, second = answer(sock), answer(sock)
        assert first.startswith(b"HTTP/1.1 200") and second.startswith(b"HTTP/1.1 404")


def test_when_every_worker_is_busy_a_request_waits_then_gets_503(caplog_warnings: pytest.LogCaptureFixture) -> None:
    entered, release = threading.Event(), threading.Event()

    def slow(_: Request) -> Reply:
        entered.set()
        release.wait(10.0)
        return Reply(200, b"done\n")

    with serving(Limits(workers=1, wait_s=0.5), [Route("GET", "/api/slow", slow)]) as sink:
        holder = threading.Thread(target=get, args=(sink.port, "/api/slow"), daemon=True)
        holder.start()  # holds the only worker until released
        assert entered.wait(5.0)
        busy = get(sink.port)
        release.set()
        holder.join(5.0)
        assert busy.startswith(b"HTTP/1.1 503") and b"Retry-After: 5" in busy
        assert "no worker free in time" in caplog_warnings.text
        assert wait_until(lambda: get(sink.port).startswith(b"HTTP/1.1 200"), timeout=5.0)


def test_headers_too_large_are_refused_with_431() -> None:
    with serving(Limits(header_bytes=8192)) as sink:
        with socket.create_connection(("127.0.0.1", sink.port), timeout=10) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"x" * 20000)
            assert sock.recv(65536).startswith(b"HTTP/1.1 431")


def test_close_ends_held_connections_at_once() -> None:
    with (
        serving(Limits()) as sink,
        slow_client(sink.port) as slow,
        socket.create_connection(("127.0.0.1", sink.port), timeout=5) as idle,
    ):
        assert wait_until(lambda: sink.held == 2, timeout=10)
        sink.close(timeout=2.0)
        assert hung_up(slow, timeout=2.0) and hung_up(idle, timeout=2.0)


def test_a_body_left_unread_by_a_refusal_never_becomes_the_next_request() -> None:
    with serving(Limits()) as sink:
        with socket.create_connection(("127.0.0.1", sink.port), timeout=10) as sock:
            sock.sendall(
                f"POST /api/status HTTP/1.1\r\nHost: 127.0.0.1:{sink.port}\r\nContent-Length: 2\r\n\r\n{{}}".encode()
            )
            assert answer(sock).startswith(b"HTTP/1.1 405")
            assert hung_up(sock, timeout=5.0)  # closed, rather than reading "{}" as the start of a request
