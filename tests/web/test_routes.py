"""Routes added by features: dispatch, 404/405, bodies bounded before they are read, JSON errors."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator

import pytest

from edge_app.address import parse_address
from edge_app.endpoints import Reply, Request, Route
from edge_app.web.routes import find
from edge_app.web.sink import HttpSink


def echo(request: Request) -> Reply:
    return Reply.json(
        {
            "method": request.method,
            "path": request.path,
            "label": request.param("label"),
            "size": len(request.body),
            "type": request.content_type,
        }
    )


def broken(request: Request) -> Reply:
    raise RuntimeError("a bug in a feature")


ROUTES = [
    Route("POST", "/api/things", echo, max_body=1000),
    Route("DELETE", "/api/things/", echo, prefix=True),
    Route("GET", "/api/broken", broken),
]


def test_find_picks_the_method_and_reports_what_else_a_path_answers() -> None:
    assert find(ROUTES, "POST", "/api/things").route is ROUTES[0]
    assert find(ROUTES, "DELETE", "/api/things/daisy").route is ROUTES[1]
    assert find(ROUTES, "GET", "/api/things").allowed == ("POST",)
    assert find(ROUTES, "GET", "/nowhere").allowed == ()
    assert find(ROUTES, "HEAD", "/api/broken").route is ROUTES[2]


@pytest.fixture
def server() -> Iterator[tuple[str, int]]:
    sink = HttpSink(parse_address("127.0.0.1:0"), dict, routes=ROUTES)
    sink.start(threading.Event())
    yield "127.0.0.1", sink.port
    sink.close()


def call(
    server: tuple[str, int], method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection(*server, timeout=5)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_a_route_gets_its_body_and_query(server: tuple[str, int]) -> None:
    code, headers, body = call(
        server, "POST", "/api/things?label=daisy", b"x" * 10, {"Content-Type": "image/jpeg; q=1"}
    )
    assert code == 200 and headers["Content-Type"] == "application/json"
    assert json.loads(body) == {
        "method": "POST",
        "path": "/api/things",
        "label": "daisy",
        "size": 10,
        "type": "image/jpeg",
    }
    assert json.loads(call(server, "DELETE", "/api/things/tulip")[2])["path"] == "/api/things/tulip"


def test_a_body_over_the_limit_is_413_before_it_is_read(server: tuple[str, int]) -> None:
    code, _, body = call(server, "POST", "/api/things", b"x" * 1001)
    assert code == 413 and "at most 1000 bytes" in json.loads(body)["error"]


def test_wrong_method_is_405_with_allow_and_unknown_path_404(server: tuple[str, int]) -> None:
    code, headers, _ = call(server, "GET", "/api/things")
    assert code == 405 and headers["Allow"] == "POST"
    assert call(server, "POST", "/snapshot.jpg")[0] == 405
    assert call(server, "GET", "/api/nothing")[0] == 404


def test_a_failing_handler_is_a_500_and_the_server_goes_on(server: tuple[str, int]) -> None:
    code, _, body = call(server, "GET", "/api/broken")
    assert code == 500 and "a bug in a feature" in json.loads(body)["error"]
    assert call(server, "GET", "/healthz")[0] == 200
