"""The routing table: which route answers a method and path, and what a miss answers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from http import HTTPStatus

from edge_app.endpoints import Reply, Route

API = "/api/"


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


def unrouted(method: str, path: str, allowed: tuple[str, ...]) -> Reply:
    """404 or 405: JSON under /api/ (scripts read it), a line of text elsewhere (as always)."""
    api = path.startswith(API)
    if not allowed:
        if api:
            return Reply.error(HTTPStatus.NOT_FOUND, f"no such endpoint: {path}")
        return Reply(HTTPStatus.NOT_FOUND, b"not found: try /\n")
    methods = ", ".join(
        method
        for allowed_method in allowed
        for method in (("GET", "HEAD") if allowed_method == "GET" else (allowed_method,))
    )
    message = f"{method} is not allowed here"
    reply = (
        Reply.error(HTTPStatus.METHOD_NOT_ALLOWED, message)
        if api
        else Reply(HTTPStatus.METHOD_NOT_ALLOWED, f"{message}\n".encode())
    )
    return Reply(reply.status, reply.body, reply.content_type, (("Allow", methods),))
