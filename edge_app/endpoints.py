"""Endpoints as plain data: what a service (status, teaching, metrics) answers over HTTP.

A service hands the live view a few Route values and never imports the web layer, which
serves them behind its access gate. A handler gets a Request (its body already read, bounded
by the route's `max_body`) and returns a Reply. Handlers run on a worker thread: one that
takes long (training) blocks only its own client. Errors for users are JSON `{"error": ...}`
with a 4xx code (`Reply.error`). A Reply with a `stream` is an endless body (the MJPEG video),
written by the web layer as parts come, without holding a worker.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Protocol

TEXT = "text/plain; charset=utf-8"
JSON = "application/json"


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # without the query
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]  # names in any case: read them with header()
    body: bytes = b""

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def header(self, name: str) -> str | None:
        """A header's value, whatever the case of its name (HTTP header names are case-insensitive)."""
        wanted = name.lower()
        return next((value for key, value in self.headers.items() if key.lower() == wanted), None)

    @property
    def content_type(self) -> str:
        return (self.header("Content-Type") or "").split(";")[0].strip().lower()


class Stream(Protocol):
    """An endless body. The writer asks for the next part only once the last one is out, so a
    slow reader gets the newest part and skips the rest; close() when the connection ends."""

    def next_part(self) -> bytes | None:
        """The next part to write, or None while there is nothing new (never blocks)."""

    def close(self) -> None: ...


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes = b""  # with a stream: written first, right after the headers
    content_type: str = TEXT
    headers: tuple[tuple[str, str], ...] = ()
    stream: Stream | None = None  # an endless body: no Content-Length, the connection closes at its end

    @classmethod
    def json(cls, value: Any, status: int = HTTPStatus.OK) -> Reply:
        return cls(status, json.dumps(value, allow_nan=False).encode(), JSON)

    @classmethod
    def error(cls, status: int, message: str) -> Reply:
        return cls.json({"error": message}, status)


Handler = Callable[[Request], Reply]


@dataclass(frozen=True)
class Route:
    method: str  # GET (answers HEAD too), POST, PUT or DELETE
    path: str  # exact, or with `prefix` every path below it ("/api/teach/classes/")
    handler: Handler
    prefix: bool = False
    max_body: int = 0  # request bodies larger than this are refused with 413, unread
    public: bool = False  # answered without the access token (only /healthz is); never without the Host check

    def matches(self, path: str) -> bool:
        return path.startswith(self.path) if self.prefix else path == self.path


@dataclass(frozen=True)
class Match:
    route: Route | None
    allowed: tuple[str, ...] = field(default=())  # methods the path answers, for 405


def find(routes: Sequence[Route], method: str, path: str) -> Match:
    """The route for method and path; else the methods the path does answer (405) or none (404)."""
    wanted = "GET" if method == "HEAD" else method
    here = [route for route in routes if route.matches(path)]
    for route in here:
        if route.method == wanted:
            return Match(route)
    return Match(None, tuple(dict.fromkeys(route.method for route in here)))


def answering(
    handler: Callable[[Request], Reply], status_of: Callable[[Exception], int | None]
) -> Callable[[Request], Reply]:
    """A user's mistake becomes a JSON 4xx: `status_of` gives the status of a feature's own errors
    (None: not one of them); any other EdgeAppError is a 400; the rest is a bug and propagates."""
    from edge_app.errors import EdgeAppError

    def answer(request: Request) -> Reply:
        try:
            return handler(request)
        except Exception as exc:
            status = status_of(exc)
            if status is None and isinstance(exc, EdgeAppError):
                status = HTTPStatus.BAD_REQUEST
            if status is None:
                raise
            return Reply.error(status, str(exc))

    return answer
