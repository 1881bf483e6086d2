"""The live view's /api/teach endpoints: JSON in and out, errors as {"error": ...} with a 4xx.

GET    /api/teach                         classes, counts, thumbnails, the model in use, progress
POST   /api/teach/examples?label=NAME     body: a JPEG or PNG photo, or empty for the current frame
DELETE /api/teach/examples/LABEL/ID       one example
DELETE /api/teach/classes/NAME            the class and its examples
POST   /api/teach/train                   answers once the new model is live (409 while one runs)
POST   /api/teach/cancel                  stops a running training at its next step
POST   /api/teach/reset[?examples=delete] back to the base model (examples kept unless asked)
GET    /api/teach/model.tflite            the taught model, standalone, labels embedded
GET    /api/teach/photos/LABEL/ID         a thumbnail of one example

Teaching raises domain errors (teach/errors.py); STATUS below is the one place they become HTTP.
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import quote, unquote

from edge_app.endpoints import Reply, Request, Route
from edge_app.errors import EdgeAppError
from edge_app.teach import errors
from edge_app.teach.photos import MAX_PHOTO
from edge_app.teach.teacher import Teacher

PHOTO_TYPES = ("image/jpeg", "image/png", "image/jpg", "application/octet-stream", "")

STATUS: dict[type[errors.TeachError], HTTPStatus] = {
    errors.Invalid: HTTPStatus.BAD_REQUEST,
    errors.NotFound: HTTPStatus.NOT_FOUND,
    errors.Conflict: HTTPStatus.CONFLICT,
    errors.Cancelled: HTTPStatus.CONFLICT,
    errors.TooLarge: HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    errors.Unsupported: HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
    errors.NotEnough: HTTPStatus.UNPROCESSABLE_ENTITY,
    errors.Busy: HTTPStatus.SERVICE_UNAVAILABLE,
    errors.Failed: HTTPStatus.INTERNAL_SERVER_ERROR,
    errors.NotStored: HTTPStatus.INSUFFICIENT_STORAGE,
}


def status_of(exc: errors.TeachError) -> HTTPStatus:
    return next((code for kind, code in STATUS.items() if isinstance(exc, kind)), HTTPStatus.BAD_REQUEST)


def _answering(handler: Callable[[Request], Reply]) -> Callable[[Request], Reply]:
    """A teach error becomes its status and a JSON error; nothing stored is lost on the way."""

    def answer(request: Request) -> Reply:
        try:
            return handler(request)
        except errors.TeachError as exc:
            reply = Reply.error(status_of(exc), str(exc))
            if isinstance(exc, errors.Busy):
                return Reply(reply.status, reply.body, reply.content_type, (("Retry-After", str(exc.retry_after)),))
            return reply
        except EdgeAppError as exc:
            return Reply.error(HTTPStatus.BAD_REQUEST, str(exc))

    return answer


def _with_urls(status: dict[str, Any]) -> dict[str, Any]:
    """Teacher.status with each class's newest examples as thumbnail URLs, as the page shows them."""
    for item in status["classes"]:
        label = quote(item["label"], safe="")
        item["photos"] = [f"/api/teach/photos/{label}/{digest}" for digest in item.pop("recent")]
    return status


def _label_and_id(request: Request, prefix: str) -> tuple[str, str]:
    label, _, digest = unquote(request.path.removeprefix(prefix)).rpartition("/")
    return label, digest


def routes(teacher: Teacher) -> list[Route]:
    def add(request: Request) -> Reply:
        label = request.param("label")
        if not request.body:
            return Reply.json(teacher.add_current(label or ""), HTTPStatus.CREATED)
        if request.content_type not in PHOTO_TYPES:
            raise errors.Unsupported(
                f"a photo must be image/jpeg or image/png, not {request.content_type}",
                "or send an empty body for the current frame",
            )
        return Reply.json(teacher.add_photo(label or "", request.body), HTTPStatus.CREATED)

    def delete(request: Request) -> Reply:
        return Reply.json(teacher.delete_class(unquote(request.path.removeprefix("/api/teach/classes/"))))

    def delete_example(request: Request) -> Reply:
        return Reply.json(teacher.delete_example(*_label_and_id(request, "/api/teach/examples/")))

    def train(request: Request) -> Reply:
        return Reply.json(teacher.train().as_dict())

    def reset(request: Request) -> Reply:
        keep = request.param("examples") != "delete"
        return Reply.json(teacher.reset(keep_examples=keep))

    def model(request: Request) -> Reply:
        if teacher.taught is None:
            raise errors.NotFound("nothing has been taught yet", "POST /api/teach/train first")
        return Reply(
            HTTPStatus.OK,
            teacher.taught.data,
            "application/octet-stream",
            (("Content-Disposition", 'attachment; filename="taught.tflite"'),),
        )

    def photo(request: Request) -> Reply:
        return Reply(HTTPStatus.OK, teacher.thumbnail(*_label_and_id(request, "/api/teach/photos/")), "image/jpeg")

    return [
        Route("GET", "/api/teach", _answering(lambda request: Reply.json(_with_urls(teacher.status())))),
        Route("POST", "/api/teach/examples", _answering(add), max_body=MAX_PHOTO),
        Route("DELETE", "/api/teach/examples/", _answering(delete_example), prefix=True),
        Route("DELETE", "/api/teach/classes/", _answering(delete), prefix=True),
        Route("POST", "/api/teach/train", _answering(train)),
        Route("POST", "/api/teach/cancel", _answering(lambda request: Reply.json(teacher.cancel()))),
        Route("POST", "/api/teach/reset", _answering(reset)),
        Route("GET", "/api/teach/model.tflite", _answering(model)),
        Route("GET", "/api/teach/photos/", _answering(photo), prefix=True),
    ]
