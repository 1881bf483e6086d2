"""The live view's HTTP parser against request smuggling (issue 22), over raw sockets: every
request a proxy in front could read differently is refused with one JSON 4xx, and the
connection closes, so no byte of it is ever answered as a request of its own."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator

import pytest

from edge_app.address import parse_address
from edge_app.endpoints import Reply, Request, Route
from edge_app.web.limits import Limits
from edge_app.web.sink import HttpSink
from tests.helpers.live_view import FakeStatus

HIDDEN = b"GET /api/hidden HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


class Recorder:
    """Routes that remember what they were given: an upload, and a request that must stay hidden."""

    def __init__(self) -> None:
        self.uploads: list[bytes] = []
        self.hidden = 0

    def upload(self, request: Request) -> Reply:
        self.uploads.append(request.body)
        return Reply.json({"stored": len(request.body)})

    def hide(self, _: Request) -> Reply:
        self.hidden += 1
        return Reply.json({"hidden": True})

    def routes(self) -> list[Route]:
        return [
            Route("POST", "/api/upload", self.upload, max_body=100_000),
            Route("GET", "/api/hidden", self.hide),
        ]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def port(recorder: Recorder) -> Iterator[int]:
    sink = HttpSink(parse_address("127.0.0.1:0"), FakeStatus(), routes=recorder.routes(), limits=Limits())
    sink.start(threading.Event())
    yield sink.port
    sink.close()


def answers(port: int, data: bytes) -> tuple[list[tuple[int, bytes]], bool]:
    """(status and body of every answer, whether the server closed the connection)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        received, closed = b"", False
        try:
            while chunk := sock.recv(65536):
                received += chunk
            closed = True
        except TimeoutError:
            pass
        except ConnectionResetError:
            closed = True
    replies = []
    while received.startswith(b"HTTP/1.1 "):
        head, _, rest = received.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = next(
            int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")
        )
        replies.append((status, rest[:length]))
        received = rest[length:]
    return replies, closed


def post(headers: str, body: bytes = b"") -> bytes:
    return f"POST /api/upload HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}\r\n".encode() + body


def refused_once(port: int, data: bytes, status: int) -> str:
    """The one JSON error the request gets, after which the connection is closed."""
    replies, closed = answers(port, data)
    assert [code for code, _ in replies] == [status], replies
    assert closed, "the connection stayed open after a refused request"
    return str(json.loads(replies[0][1])["error"])


def test_a_second_content_length_never_smuggles_its_body_as_a_request(port: int, recorder: Recorder) -> None:
    smuggled = post(f"Content-Length: 0\r\nContent-Length: {len(HIDDEN)}\r\n", HIDDEN)
    refused_once(port, smuggled, 400)
    same_twice = post(f"Content-Length: {len(HIDDEN)}\r\nContent-Length: {len(HIDDEN)}\r\n", HIDDEN)
    assert "Content-Length" in refused_once(port, same_twice, 400)
    assert (recorder.hidden, recorder.uploads) == (0, [])


def test_a_space_before_the_colon_is_refused_not_ignored(port: int, recorder: Recorder) -> None:
    refused_once(port, post(f"Content-Length : {len(HIDDEN)}\r\n", HIDDEN), 400)
    assert recorder.hidden == 0


@pytest.mark.parametrize("length", ["+0", "0_0", "1_0", "-1", "0x10", " 1 0"])
def test_a_content_length_that_is_not_plain_digits_is_refused(port: int, recorder: Recorder, length: str) -> None:
    refused_once(port, post(f"Content-Length: {length}\r\n", b"x" * 10), 400)
    assert recorder.uploads == []


def test_obs_folded_headers_are_refused(port: int) -> None:
    assert "folded" in refused_once(port, post("Content-Length: 2\r\nX-Note: a\r\n folded\r\n", b"{}"), 400)


def test_two_host_headers_are_refused_so_the_gate_cannot_check_the_wrong_one(port: int, recorder: Recorder) -> None:
    two = b"GET /api/hidden HTTP/1.1\r\nHost: attacker.example\r\nHost: 127.0.0.1\r\n\r\n"
    refused_once(port, two, 400)
    assert recorder.hidden == 0


def test_headers_over_the_limit_are_refused_even_when_they_arrive_whole(port: int) -> None:
    big = "".join(f"X-Pad-{i}: {'y' * 1000}\r\n" for i in range(40))  # 40 KB, past the 32 KB limit
    replies, closed = answers(port, f"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n{big}\r\n".encode())
    assert [code for code, _ in replies] == [431] and closed


def test_a_body_without_a_length_is_411_and_never_read_as_empty(port: int, recorder: Recorder) -> None:
    photo = b"\xff\xd8 not read as the current frame"
    refused_once(port, post("", photo), 411)
    assert recorder.uploads == []  # an empty upload would have stored the current frame


def test_transfer_encoding_is_411_and_with_a_content_length_400(port: int, recorder: Recorder) -> None:
    chunked = b"5\r\nhello\r\n0\r\n\r\n"
    refused_once(port, post("Transfer-Encoding: chunked\r\n", chunked), 411)
    both = post(f"Transfer-Encoding: chunked\r\nContent-Length: {len(chunked)}\r\n", chunked + HIDDEN)
    refused_once(port, both, 400)
    assert (recorder.hidden, recorder.uploads) == (0, [])


def test_bad_request_lines_are_refused(port: int) -> None:
    for line in (b"GET /\r\n\r\n", b"GET / HTTP/1.1 extra\r\nHost: 127.0.0.1\r\n\r\n", b"\x16\x03\x01garbage\r\n\r\n"):
        replies, closed = answers(port, line)
        assert [code for code, _ in replies] == [400] and closed, line


def test_a_well_framed_upload_and_the_request_after_it_are_both_answered(port: int, recorder: Recorder) -> None:
    body = b"\x00\x01" * 1000
    last = HIDDEN.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n")
    replies, _ = answers(port, post(f"Content-Length: {len(body)}\r\n", body) + last)
    assert [code for code, _ in replies] == [200, 200]
    assert recorder.uploads == [body] and recorder.hidden == 1


def test_an_empty_post_to_a_route_without_a_body_needs_no_length(port: int) -> None:
    """curl -X POST sends no Content-Length: a route that takes no body answers it as before."""
    replies, _ = answers(port, b"POST /api/hidden HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    assert [code for code, _ in replies] == [405]


def test_unknown_api_paths_answer_json(port: int) -> None:
    replies, _ = answers(port, b"GET /api/nope HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    assert replies[0][0] == 404 and "error" in json.loads(replies[0][1])
    replies, _ = answers(port, b"DELETE /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    assert replies[0][0] == 405 and "error" in json.loads(replies[0][1])
