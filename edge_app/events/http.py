"""The events and review endpoints (JSON in and out, errors as {"error": ...} with a 4xx), and the
page that shows them. Behind the live view's token rules like every route but /healthz.

GET    /events                              the timeline and review page
GET    /api/events?camera&region&label&since&until&reviewed&before&limit
GET    /api/events/ID                       one event
GET    /api/events/ID/snapshot.jpg | crop.jpg | clip.mp4 (Range: browsers seek)
POST   /api/events/ID/reviewed              body {"reviewed": false} to undo
POST   /api/events/ID/assign                {"label": "X", "train": false}: "this was wrong, it is X"
DELETE /api/events/ID                       the row and its files
GET    /api/review?region=NAME[&camera=C]   the frames worth a look, newest first
GET    /api/review/ID/crop.jpg | frame.jpg
POST   /api/review/assign                   {"ids": [...], "label": "X", "train": false}
POST   /api/review/discard                  {"ids": [...]}
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from http import HTTPStatus
from importlib import resources
from pathlib import Path
from typing import Any

from edge_app.endpoints import Reply, Request, Route, answering
from edge_app.events.keeper import EventKeeper
from edge_app.events.store import PAGE_MAX, EventRow, Query
from edge_app.teach.errors import TeachError
from edge_app.teach.http import status_of

MAX_BODY = 64 * 1024
MAX_IDS = 1000
RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
FILES = {
    "snapshot.jpg": ("snapshot", "image/jpeg"),
    "crop.jpg": ("crop", "image/jpeg"),
    "clip.mp4": ("clip", "video/mp4"),
}


class BadRequest(Exception):
    def __init__(self, message: str, status: int = HTTPStatus.BAD_REQUEST) -> None:
        super().__init__(message)
        self.status = status


def _status(exc: Exception) -> int | None:
    if isinstance(exc, BadRequest):
        return exc.status
    return status_of(exc) if isinstance(exc, TeachError) else None


def _answering(handler: Callable[[Request], Reply]) -> Callable[[Request], Reply]:
    return answering(handler, _status)


def _number(request: Request, name: str) -> float | None:
    text = request.param(name)
    if text is None or text == "":
        return None
    try:
        value = float(text)
    except ValueError:
        raise BadRequest(f"{name} must be a number, not {text!r}") from None
    if not math.isfinite(value):
        raise BadRequest(f"{name} must be a finite number")
    return value


def query_of(request: Request) -> Query:
    before = _number(request, "before")
    limit = _number(request, "limit")
    if limit is not None and not 1 <= limit <= PAGE_MAX:
        raise BadRequest(f"limit must be 1 to {PAGE_MAX}")
    reviewed = request.param("reviewed")
    if reviewed not in (None, "", "true", "false"):
        raise BadRequest("reviewed must be true or false")
    return Query(
        camera=request.param("camera") or None,
        region=request.param("region") or None,
        label=request.param("label") or None,
        since=_number(request, "since"),
        until=_number(request, "until"),
        reviewed=None if not reviewed else reviewed == "true",
        before=None if before is None else int(before),
        limit=50 if limit is None else int(limit),
    )


def _body(request: Request) -> dict[str, Any]:
    if not request.body:
        return {}
    try:
        value = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("the body is not JSON") from None
    if not isinstance(value, dict):
        raise BadRequest("the body must be a JSON object")
    return value


def _ids(body: dict[str, Any]) -> list[int]:
    ids = body.get("ids")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise BadRequest('"ids" must be a non-empty list of review frame ids')
    if len(ids) > MAX_IDS:
        raise BadRequest(f"at most {MAX_IDS} ids at a time", HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
    return list(dict.fromkeys(ids))


def _label(body: dict[str, Any]) -> tuple[str, bool]:
    label, train = body.get("label"), body.get("train", False)
    if not isinstance(label, str) or not label.strip():
        raise BadRequest('"label" must name the class, e.g. {"label": "open"}')
    if not isinstance(train, bool):
        raise BadRequest('"train" must be true or false')
    return label, train


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive (first, last) byte of a single `Range: bytes=...`, None for the whole file;
    BadRequest 416 when it lies outside it."""
    if header is None:
        return None
    match = RANGE.match(header.strip())
    if match is None or match.groups() == ("", ""):
        return None  # a form we do not serve (several ranges): the whole file, as RFC 9110 allows
    first_text, last_text = match.groups()
    if first_text == "":
        first, last = max(0, size - int(last_text)), size - 1
    else:
        first = int(first_text)
        last = min(size - 1, int(last_text)) if last_text else size - 1
    if first >= size or first > last:
        raise BadRequest(
            f"the range {header} is outside the file's {size} bytes", HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE
        )
    return first, last


def file_reply(path: Path, content_type: str, request: Request) -> Reply:
    """The file, or the part a Range asks for (206, Content-Range)."""
    try:
        with open(path, "rb") as f:
            size = f.seek(0, 2)
            wanted = byte_range(request.header("Range"), size)
            if wanted is None:
                f.seek(0)
                return Reply(HTTPStatus.OK, f.read(), content_type, (("Accept-Ranges", "bytes"),))
            first, last = wanted
            f.seek(first)
            data = f.read(last - first + 1)
    except FileNotFoundError:
        raise BadRequest("the file is gone", HTTPStatus.NOT_FOUND) from None
    headers = (("Accept-Ranges", "bytes"), ("Content-Range", f"bytes {first}-{last}/{size}"))
    return Reply(HTTPStatus.PARTIAL_CONTENT, data, content_type, headers)


def page() -> bytes:
    return resources.files("edge_app.events").joinpath("events.html").read_bytes()


def routes(keeper: EventKeeper) -> list[Route]:
    store, review = keeper.store, keeper.review

    def event_of(text: str) -> EventRow:
        if not text.isdigit():
            raise BadRequest(f"no event {text!r}: ids are numbers", HTTPStatus.NOT_FOUND)
        row = store.get(int(text))
        if row is None:
            raise BadRequest(f"there is no event {text}", HTTPStatus.NOT_FOUND)
        return row

    def listing(request: Request) -> Reply:
        query = query_of(request)
        answer = store.page(query).as_dict()
        answer["unreviewed"] = store.count(Query(camera=query.camera, region=query.region, reviewed=False))
        return Reply.json(answer)

    def one(request: Request) -> Reply:
        parts = request.path.removeprefix("/api/events/").split("/")
        row = event_of(parts[0])
        if len(parts) == 1:
            return Reply.json(row.as_dict())
        if len(parts) == 2 and parts[1] in FILES:
            column, content_type = FILES[parts[1]]
            name = getattr(row, column)
            if name is None:
                raise BadRequest(f"event {row.id} has no {column}", HTTPStatus.NOT_FOUND)
            return file_reply(store.file(name), content_type, request)
        raise BadRequest(f"no such resource {request.path}", HTTPStatus.NOT_FOUND)

    def act(request: Request) -> Reply:
        parts = request.path.removeprefix("/api/events/").split("/")
        if len(parts) != 2 or parts[1] not in ("reviewed", "assign"):
            raise BadRequest(f"no such action {request.path}", HTTPStatus.NOT_FOUND)
        row = event_of(parts[0])
        body = _body(request)
        if parts[1] == "reviewed":
            reviewed = body.get("reviewed", True)
            if not isinstance(reviewed, bool):
                raise BadRequest('"reviewed" must be true or false')
            store.mark_reviewed(row.id, reviewed)
            return Reply.json({"id": row.id, "reviewed": reviewed})
        label, train = _label(body)
        if row.crop is None:
            raise BadRequest(f"event {row.id} has no picture to teach with", HTTPStatus.CONFLICT)
        answer = _teach(keeper, (row.camera, row.region), [(_photo(store.file(row.crop)), None)], label, train)
        store.mark_reviewed(row.id)
        return Reply.json(answer)

    def delete(request: Request) -> Reply:
        row = event_of(request.path.removeprefix("/api/events/"))
        store.delete([row.id]).result(5.0)
        return Reply.json({"deleted": row.id})

    def queue(request: Request) -> Reply:
        region, camera = request.param("region") or None, request.param("camera") or None
        frames = review.recent(camera, region)
        return Reply.json({"frames": [frame.as_dict() for frame in frames], "counts": review.counts()})

    def review_file(request: Request) -> Reply:
        parts = request.path.removeprefix("/api/review/").split("/")
        if len(parts) != 2 or not parts[0].isdigit() or parts[1] not in ("crop.jpg", "frame.jpg"):
            raise BadRequest(f"no such resource {request.path}", HTTPStatus.NOT_FOUND)
        found = review.take([int(parts[0])])
        name = (found[0].crop if parts[1] == "crop.jpg" else found[0].frame) if found else None
        if name is None:
            raise BadRequest(f"there is no review frame {parts[0]}", HTTPStatus.NOT_FOUND)
        return file_reply(store.file(name), "image/jpeg", request)

    def assign(request: Request) -> Reply:
        body = _body(request)
        ids, (label, train) = _ids(body), _label(body)
        frames = review.take(ids)
        missing = sorted(set(ids) - {frame.id for frame in frames})
        if missing:
            raise BadRequest(f"no review frames {missing[:5]} (already assigned or discarded?)", HTTPStatus.NOT_FOUND)
        regions = {(frame.camera, frame.region) for frame in frames}
        if len(regions) > 1:
            raise BadRequest("the frames come from several regions; assign one region's at a time")
        examples = [(_photo(store.file(frame.crop)), frame.vector()) for frame in frames]
        return Reply.json(_teach(keeper, regions.pop(), examples, label, train, lambda: review.discard(ids)))

    def discard(request: Request) -> Reply:
        return Reply.json({"discarded": review.discard(_ids(_body(request)))})

    answering = _answering
    return [
        Route("GET", "/events", lambda request: Reply(HTTPStatus.OK, page(), "text/html; charset=utf-8")),
        Route("GET", "/api/events", answering(listing)),
        Route("GET", "/api/events/", answering(one), prefix=True),
        Route("POST", "/api/events/", answering(act), prefix=True, max_body=MAX_BODY),
        Route("DELETE", "/api/events/", answering(delete), prefix=True),
        Route("GET", "/api/review", answering(queue)),
        Route("GET", "/api/review/", answering(review_file), prefix=True),
        Route("POST", "/api/review/assign", answering(assign), max_body=MAX_BODY),
        Route("POST", "/api/review/discard", answering(discard), max_body=MAX_BODY),
    ]


def _photo(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise BadRequest(f"the picture {path.name} is gone", HTTPStatus.GONE) from None


def _teach(
    keeper: EventKeeper,
    where: tuple[str, str],
    examples: list[tuple[bytes, Any]],
    label: str,
    train: bool,
    taken: Callable[[], object] = lambda: None,
) -> dict[str, Any]:
    """The (photo, embedding) pairs become examples of `label` for the (camera, region); with
    `train`, it is retrained. `taken` runs once they are examples, before a training that may
    refuse (too few examples), so a refusal loses nothing and a retry adds nothing twice."""
    camera, region = where
    teacher = keeper.teacher_for(camera, region)
    if teacher is None:
        raise BadRequest(
            f"region {region!r} of {camera!r} cannot be taught here (teaching is off?)", HTTPStatus.CONFLICT
        )
    added = sum(teacher.add_example(label, photo, vector) for photo, vector in examples)
    answer: dict[str, Any] = {"camera": camera, "region": region, "label": label.strip(), "added": added}
    taken()
    if train:
        answer["trained"] = teacher.train()
    return answer
