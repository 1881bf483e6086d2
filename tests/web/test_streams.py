"""MJPEG viewers are written by the stream writer, not by workers (issue 22): 300 viewers that
never read once took all 64 workers and /api/status took 8.35 s. Each limit here is generous;
the tight figure is benchmarks/bench_stream_starvation.py's."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from edge_app.address import parse_address
from edge_app.web.limits import Limits
from edge_app.web.sink import HttpSink
from tests.helpers.lan_load import raise_own_open_files
from tests.helpers.live_view import FakeStatus, Feeder, get, get_status, stuck_viewer
from tests.helpers.needs import unavailable
from tests.helpers.waiting import wait_until

VIEWERS = 300


@pytest.fixture
def sink() -> Iterator[HttpSink]:
    sink = HttpSink(parse_address("127.0.0.1:0"), FakeStatus(), send_timeout=30.0, limits=Limits(workers=8))
    sink.start(threading.Event())
    feeder = Feeder(sink.frame, fps=30.0, size=(160, 120))
    feeder.start()
    yield sink
    feeder.close()
    sink.close()


def test_viewers_that_never_read_leave_the_api_answering(sink: HttpSink) -> None:
    if not raise_own_open_files(2 * VIEWERS + 256):
        unavailable("the descriptor limit is too low for 300 viewers and their server")
    viewers: list[socket.socket] = []
    try:
        for _ in range(VIEWERS):  # more than the 8 workers many times over
            viewers.append(stuck_viewer(sink.url))
        wait_until(
            lambda: get_status(sink.url)["stream"]["viewers"] == VIEWERS,
            timeout=30.0,
            message=lambda: f"{get_status(sink.url)['stream']['viewers']} of {VIEWERS} viewers are being streamed to",
        )
        start = time.monotonic()
        code, _, _ = get(sink.url, "/api/status")
        assert code == 200 and time.monotonic() - start < 5.0
        stats: dict[str, Any] = sink.stats()
        assert stats["encoded"] > 0
    finally:
        for viewer in viewers:
            viewer.close()
    wait_until(
        lambda: get_status(sink.url)["stream"]["viewers"] == 0, timeout=30.0, message="viewers who left still counted"
    )


def test_a_head_request_for_the_stream_gets_its_headers_and_no_viewer_stays(sink: HttpSink) -> None:
    with socket.create_connection(("127.0.0.1", sink.port), timeout=5) as sock:
        sock.sendall(f"HEAD /stream.mjpg HTTP/1.1\r\nHost: 127.0.0.1:{sink.port}\r\n\r\n".encode())
        head = b"".join(iter(lambda: sock.recv(65536), b""))
    assert head.startswith(b"HTTP/1.1 200") and b"multipart/x-mixed-replace" in head and head.endswith(b"\r\n\r\n")
    assert get_status(sink.url)["stream"]["viewers"] == 0
