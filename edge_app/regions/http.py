"""The live view's /api/regions endpoints: JSON in and out, errors as {"error": ...} with a 4xx.

GET    /api/regions[?camera=NAME]                 every region: its settings, origin and live state
PUT    /api/regions/NAME[?camera=NAME]            body: {"box": [x0, y0, x1, y1], "on_motion", "every",
                                                  "threshold", "confirm", "model"}; keys left out keep
                                                  their value (201 when made, 200 when changed)
DELETE /api/regions/NAME[?examples=delete]        a page region; its taught examples stay unless asked

Regions from the config file are listed with "origin": "config" and refused (409) by PUT and DELETE.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

from edge_app.endpoints import Reply, Request, Route, answering
from edge_app.regions.board import RegionBoard
from edge_app.regions.book import RegionBook, RegionError

MAX_BODY = 16 * 1024
PREFIX = "/api/regions/"


def _answering(handler: Callable[[Request], Reply]) -> Callable[[Request], Reply]:
    return answering(handler, lambda exc: exc.status if isinstance(exc, RegionError) else None)


def routes(books: Mapping[str, RegionBook], board: RegionBoard) -> list[Route]:
    """`books` by camera name; the first is the default camera (no ?camera=)."""
    default = next(iter(books))

    def book_of(request: Request) -> RegionBook:
        camera = request.param("camera") or default
        if camera not in books:
            raise RegionError(f"there is no camera {camera!r}", f"cameras: {', '.join(books)}", HTTPStatus.NOT_FOUND)
        return books[camera]

    def listing(book: RegionBook) -> dict[str, Any]:
        views = {view.name: view for view in board.views(book.camera)}
        regions = []
        for spec in book.specs:
            view = views.get(spec.name)
            regions.append(view.as_dict() if view is not None and view.spec == spec else {**spec.as_dict()})
        return {
            "camera": book.camera,
            "cameras": list(books),
            "editable": book.state_dir is not None,
            "regions": regions,
        }

    def get(request: Request) -> Reply:
        return Reply.json(listing(book_of(request)))

    def put(request: Request) -> Reply:
        book = book_of(request)
        try:
            body = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            raise RegionError("the body is not JSON", 'send e.g. {"box": [0.1, 0.1, 0.5, 0.5]}') from None
        spec, created = book.put(_name(request), body)
        return Reply.json(spec.as_dict(), HTTPStatus.CREATED if created else HTTPStatus.OK)

    def delete(request: Request) -> Reply:
        book = book_of(request)
        return Reply.json(book.delete(_name(request), examples=request.param("examples") == "delete"))

    return [
        Route("GET", "/api/regions", _answering(get)),
        Route("PUT", PREFIX, _answering(put), prefix=True, max_body=MAX_BODY),
        Route("DELETE", PREFIX, _answering(delete), prefix=True),
    ]


def _name(request: Request) -> str:
    return unquote(request.path.removeprefix(PREFIX))
