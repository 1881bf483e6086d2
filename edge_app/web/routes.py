"""The routing table: which route answers a method and path, and what a miss answers."""

from __future__ import annotations

from http import HTTPStatus

from edge_app.endpoints import Match, Reply, find

__all__ = ["Match", "find", "unrouted"]

API = "/api/"


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
