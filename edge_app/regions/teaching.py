"""Teaching per region: `/api/teach?region=NAME` (and every /api/teach/... route with it) goes
to that region's own Teacher, whose examples and taught model live in the region's folder of
the state dir (states.teach_root), so they are used after a restart. Without `region` the
routes are the whole frame's, as before. An example from the camera is the region's crop: the
region runtime hands each region's Teacher the crop it classified (observe).

Teachers are made on first use by the runtime's factory (it owns the region's model slot), so a
region made in the page can be taught at once; a region whose model cannot be taught says why.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from edge_app.endpoints import JSON, Reply, Request, Route, find
from edge_app.frames import Frame, Result
from edge_app.model.classifier import Classifier
from edge_app.regions.book import RegionError
from edge_app.regions.states import teach_root

if TYPE_CHECKING:
    from edge_app.model.options import ModelOptions
    from edge_app.teach.models import Chosen
    from edge_app.teach.teacher import Teacher

Factory = Callable[[str, str], "Teacher | str"]  # (camera, region) -> its Teacher, or why it cannot be taught


def choose_region_model(
    state_dir: Path, camera: str, region: str, lanes: Sequence[Classifier], options: ModelOptions, live: bool
) -> Chosen:
    """The model a region runs: the one taught for it (made on this base) if any, else `lanes` (its
    configured model); live, with its embedding as a second output so it can be taught."""
    from edge_app.teach.models import choose
    from edge_app.teach.store import ExampleStore

    return choose(lanes, ExampleStore(teach_root(state_dir, camera, region)), options, live)


class RegionTeachers:
    def __init__(self, factory: Factory, default_camera: str) -> None:
        self._factory = factory
        self.default_camera = default_camera
        self._teachers: dict[tuple[str, str], Teacher] = {}
        self._lock = threading.Lock()

    def teacher(self, camera: str, region: str) -> Teacher:
        """The region's Teacher, made on first use; RegionError (404/409) when there is none."""
        key = (camera, region)
        with self._lock:
            found = self._teachers.get(key)
            if found is not None:
                return found
            made = self._factory(camera, region)
            if isinstance(made, str):
                raise RegionError(f"region {region!r} cannot be taught: {made}", "", HTTPStatus.CONFLICT)
            self._teachers[key] = made
            return made

    def known(self, camera: str, region: str) -> Teacher | None:
        with self._lock:
            return self._teachers.get((camera, region))

    def forget(self, camera: str, region: str) -> None:
        """The region was deleted (or its model changed): a new Teacher next time."""
        with self._lock:
            self._teachers.pop((camera, region), None)

    def observe(self, camera: str, region: str, crop: Frame, result: Result) -> None:
        """From the region runtime: `crop` (the region's part of the frame) was classified as `result`."""
        teacher = self.known(camera, region)
        if teacher is not None:
            teacher.observe(crop, result)


def routes(whole: Sequence[Route], teachers: RegionTeachers) -> list[Route]:
    """`whole`: the whole frame's /api/teach routes (maybe only the "teaching is off" answer). A
    request naming a region is answered by that region's own routes (made once per Teacher)."""
    from edge_app.teach.photos import MAX_PHOTO

    made: dict[int, tuple[Route, ...]] = {}

    def region_reply(request: Request, region: str) -> Reply:
        from edge_app.teach.http import routes as teach_routes

        camera = request.param("camera") or teachers.default_camera
        try:
            teacher = teachers.teacher(camera, region)
        except RegionError as exc:
            return Reply.error(exc.status, str(exc))
        if id(teacher) not in made:
            made[id(teacher)] = tuple(teach_routes(teacher))
        match = find(made[id(teacher)], request.method, request.path)
        if match.route is None:
            return Reply.error(HTTPStatus.NOT_FOUND, f"{request.method} {request.path} is not a teaching route")
        reply = match.route.handler(request)
        if request.path == "/api/teach" and reply.content_type == JSON and reply.status == HTTPStatus.OK:
            return Reply.json(_for_region(json.loads(reply.body), camera, region))
        return reply

    def dispatch(route: Route) -> Route:
        def handler(request: Request) -> Reply:
            region = request.param("region")
            return region_reply(request, region) if region else route.handler(request)

        limit = max(route.max_body, MAX_PHOTO) if route.method == "POST" else route.max_body
        return Route(route.method, route.path, handler, route.prefix, limit, route.public)

    def only_regions(request: Request) -> Reply:
        region = request.param("region")
        if region:
            return region_reply(request, region)
        return Reply.error(HTTPStatus.NOT_FOUND, "teaching the whole frame is off; name a region with ?region=NAME")

    rest = [
        Route(method, "/api/teach", only_regions, prefix=True, max_body=MAX_PHOTO if method == "POST" else 0)
        for method in ("GET", "POST", "DELETE")
    ]
    return [*(dispatch(route) for route in whole), *rest]


def _for_region(status: dict[str, Any], camera: str, region: str) -> dict[str, Any]:
    """The region's teach status with thumbnail links that name the region too."""
    query = f"region={quote(region, safe='')}&camera={quote(camera, safe='')}"
    for item in status.get("classes", []):
        item["photos"] = [f"{url}{'&' if '?' in url else '?'}{query}" for url in item.get("photos", [])]
    return {**status, "region": region, "camera": camera}
