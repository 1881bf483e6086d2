"""From a parsed request to its reply: the access gate first, whatever the route, then the route.

Routes that services add later are protected like the built-in ones; only routes marked
public skip the token (never the Host check).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

from edge_app.endpoints import Reply, Request, Route
from edge_app.web.auth import NEEDS_TOKEN, Gate, Seen, Verdict
from edge_app.web.exchange import Exchange, Incoming
from edge_app.web.pages import HTML, login_page
from edge_app.web.routes import find, unrouted

log = logging.getLogger(__name__)


def refusal(verdict: Verdict, incoming: Incoming) -> Reply:
    """The gate's answer: the token form for a browser, JSON for the rest, or the 303 of a good link."""
    if verdict.location:
        return Reply(verdict.status, b"", headers=(("Location", verdict.location), ("Set-Cookie", verdict.cookie)))
    headers: list[tuple[str, str]] = []
    if verdict.status == HTTPStatus.UNAUTHORIZED:
        headers.append(("WWW-Authenticate", 'Bearer realm="edge-app"'))
    if verdict.retry_after:
        headers.append(("Retry-After", str(verdict.retry_after)))
    if verdict.login and incoming.method == "GET" and "text/html" in incoming.headers.get("accept", ""):
        reply = Reply(verdict.status, login_page("" if verdict.message == NEEDS_TOKEN else verdict.message), HTML)
    else:
        reply = Reply.error(verdict.status, verdict.message)
    return replace(reply, headers=tuple(headers))


class Dispatch:
    def __init__(self, routes: Sequence[Route], gate: Gate) -> None:
        self.routes = list(routes)
        self.gate = gate

    def answer(self, exchange: Exchange, incoming: Incoming) -> Reply:
        """The reply to `incoming`; reading its body through `exchange` if the route takes one
        (a refused body raises Refused)."""
        parts = urlsplit(incoming.target)
        query = parse_qs(parts.query)
        match = find(self.routes, incoming.method, parts.path)
        public = match.route is not None and match.route.public
        verdict = self.gate.check(
            Seen(
                method=incoming.method,
                path=parts.path,
                query=query,
                headers=incoming.headers,
                local=incoming.local,
                peer=incoming.peer,
                version=incoming.version,
                public=public,
            )
        )
        if not verdict.ok:
            return refusal(verdict, incoming)
        if match.route is None:
            return unrouted(incoming.method, parts.path, match.allowed)
        body = exchange.body(match.route.max_body)
        request = Request(incoming.method, parts.path, query, incoming.headers, body)
        try:
            return match.route.handler(request)
        except Exception as exc:  # a bug in a service's handler: a 500 for this request, the server goes on
            log.warning("live view: %s %s failed: %s", incoming.method, parts.path, exc, exc_info=True)
            return Reply.error(HTTPStatus.INTERNAL_SERVER_ERROR, f"internal error: {exc}")
