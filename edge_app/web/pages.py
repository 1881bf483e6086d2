"""The live view's own pages: the page itself and the token form, read once from the package."""

from __future__ import annotations

import html
from functools import cache
from http import HTTPStatus
from importlib import resources

from edge_app.endpoints import Reply, Route

HTML = "text/html; charset=utf-8"


@cache
def resource(name: str) -> bytes:
    return resources.files("edge_app.web").joinpath(name).read_bytes()


def page() -> bytes:
    return resource("page.html")


def login_page(message: str) -> bytes:
    """The token form (login.html), with why it is shown."""
    return resource("login.html").replace(b"<!--message-->", html.escape(message).encode())


def page_routes() -> list[Route]:
    page_reply = Reply(HTTPStatus.OK, page(), HTML)
    return [
        Route("GET", "/", lambda _: page_reply),
        Route("GET", "/index.html", lambda _: page_reply),
        Route("GET", "/favicon.ico", lambda _: Reply(HTTPStatus.NO_CONTENT, b"", "image/x-icon"), public=True),
    ]
