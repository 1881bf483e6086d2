"""The camera's pictures as routes: /stream.mjpg (MJPEG, an endless body) and /snapshot.jpg."""

from __future__ import annotations

from http import HTTPStatus

from edge_app.endpoints import Reply, Route
from edge_app.web.hub import JpegHub

BOUNDARY = "edgeappframe"
MJPEG = f"multipart/x-mixed-replace; boundary={BOUNDARY}"


def mjpeg_part(jpeg: bytes) -> bytes:
    """One part, followed at once by the next boundary: browsers show a part only when they see its end."""
    head = f"Content-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n".encode()
    return head + jpeg + f"\r\n--{BOUNDARY}\r\n".encode()


class MjpegStream:
    """One viewer of the hub: counted (and encoded for) from the start until close()."""

    def __init__(self, hub: JpegHub) -> None:
        self._hub = hub
        self._viewer = hub.join()
        self._open = True

    def next_part(self) -> bytes | None:
        jpeg = self._viewer.next(timeout=0.0)
        return None if jpeg is None else mjpeg_part(jpeg.data)

    def close(self) -> None:
        if self._open:
            self._open = False
            self._hub.leave()


def video_routes(hub: JpegHub) -> list[Route]:
    def stream(_: object) -> Reply:
        return Reply(HTTPStatus.OK, f"--{BOUNDARY}\r\n".encode(), MJPEG, stream=MjpegStream(hub))

    def snapshot(_: object) -> Reply:
        jpeg = hub.snapshot()
        if jpeg is None:
            return Reply(HTTPStatus.SERVICE_UNAVAILABLE, b"no frame yet\n")
        return Reply(HTTPStatus.OK, jpeg.data, "image/jpeg")

    return [Route("GET", "/stream.mjpg", stream), Route("GET", "/snapshot.jpg", snapshot)]
