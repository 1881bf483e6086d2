"""The live view's /api/teach endpoints: JSON in and out, errors as {"error": ...} with a 4xx.

GET    /api/teach                         classes, counts, thumbnails, the model in use
POST   /api/teach/examples?label=NAME     body: a JPEG or PNG photo, or empty for the current frame
DELETE /api/teach/classes/NAME            the class and its examples
POST   /api/teach/train                   answers once the new model is live (409 while one runs)
POST   /api/teach/reset[?examples=delete] back to the base model (examples kept unless asked)
GET    /api/teach/model.tflite            the taught model, standalone, labels embedded
GET    /api/teach/photos/LABEL/ID         a thumbnail of one example
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from pathlib import Path
from urllib.parse import unquote

import cv2

from edge_app.endpoints import Reply, Request, Route
from edge_app.errors import EdgeAppError
from edge_app.images import read_image
from edge_app.teach.store import TeachError
from edge_app.teach.teacher import Teacher

MAX_PHOTO = 10 * 1024 * 1024  # bytes: a phone photo fits; larger is 413, unread
THUMBNAIL = 96  # pixels, the longer side
PHOTO_TYPES = ("image/jpeg", "image/png", "image/jpg", "application/octet-stream", "")


def _answering(handler: Callable[[Request], Reply]) -> Callable[[Request], Reply]:
    """A teach error becomes its status and a JSON error; nothing stored is lost on the way."""

    def answer(request: Request) -> Reply:
        try:
            return handler(request)
        except TeachError as exc:
            return Reply.error(exc.status, str(exc))
        except EdgeAppError as exc:
            return Reply.error(HTTPStatus.BAD_REQUEST, str(exc))

    return answer


def routes(teacher: Teacher) -> list[Route]:
    def add(request: Request) -> Reply:
        label = request.param("label")
        if not request.body:
            return Reply.json(teacher.add_current(label or ""), HTTPStatus.CREATED)
        if request.content_type not in PHOTO_TYPES:
            raise TeachError(
                f"a photo must be image/jpeg or image/png, not {request.content_type}",
                "or send an empty body for the current frame",
                415,
            )
        return Reply.json(teacher.add_photo(label or "", request.body), HTTPStatus.CREATED)

    def delete(request: Request) -> Reply:
        return Reply.json(teacher.delete_class(unquote(request.path.removeprefix("/api/teach/classes/"))))

    def train(request: Request) -> Reply:
        return Reply.json(teacher.train().as_dict())

    def reset(request: Request) -> Reply:
        keep = request.param("examples") != "delete"
        return Reply.json(teacher.reset(keep_examples=keep))

    def model(request: Request) -> Reply:
        if teacher.taught is None:
            raise TeachError("nothing has been taught yet", "POST /api/teach/train first", 404)
        return Reply(
            HTTPStatus.OK,
            teacher.taught.data,
            "application/octet-stream",
            (("Content-Disposition", 'attachment; filename="taught.tflite"'),),
        )

    def photo(request: Request) -> Reply:
        label, _, digest = unquote(request.path.removeprefix("/api/teach/photos/")).rpartition("/")
        return Reply(HTTPStatus.OK, _thumbnail(teacher.store.photo(label, digest)), "image/jpeg")

    return [
        Route("GET", "/api/teach", _answering(lambda request: Reply.json(teacher.status()))),
        Route("POST", "/api/teach/examples", _answering(add), max_body=MAX_PHOTO),
        Route("DELETE", "/api/teach/classes/", _answering(delete), prefix=True),
        Route("POST", "/api/teach/train", _answering(train)),
        Route("POST", "/api/teach/reset", _answering(reset)),
        Route("GET", "/api/teach/model.tflite", _answering(model)),
        Route("GET", "/api/teach/photos/", _answering(photo), prefix=True),
    ]


def _thumbnail(path: Path) -> bytes:
    image = read_image(path)
    scale = THUMBNAIL / max(image.shape[:2])
    if scale < 1:
        image = cv2.resize(
            image,
            (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale))),
            interpolation=cv2.INTER_AREA,
        )
    return cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes()
