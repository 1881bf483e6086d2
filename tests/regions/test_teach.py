"""Teaching one region through /api/teach?region=NAME: examples from the region's crop and from
uploaded photos, trained into the region's own model in its folder of the state dir, used after
a restart; the whole frame's teaching is untouched; unknown or unteachable regions say why."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from edge_app.endpoints import Request, Route, find
from edge_app.frames import Frame
from edge_app.model.classifier import Classifier
from edge_app.model.options import ModelOptions
from edge_app.regions.states import teach_root
from edge_app.regions.teaching import RegionTeachers, choose_region_model, routes
from edge_app.teach.setup import _off
from tests.helpers.pictures import imread
from tests.helpers.teach import RegionRuntime, photos, species

pytestmark = pytest.mark.shared
MODEL = "mobilenet_v1_0.25_128_quant"


def call(table: list[Route], method: str, path: str, body: bytes = b"", **query: str) -> tuple[int, Any]:
    request = Request(method, path, {k: [v] for k, v in query.items()}, {"Content-Type": "image/jpeg"}, body)
    route = find(table, method, path).route
    assert route is not None, (method, path)
    reply = route.handler(request)
    return reply.status, json.loads(reply.body) if reply.content_type == "application/json" else reply.body


def test_a_region_is_taught_on_its_own(model_cache: Path, tmp_path: Path) -> None:
    options = ModelOptions(model=MODEL, threads=1)
    runtime = RegionRuntime(tmp_path, options, ("door", "bins"))
    teachers = RegionTeachers(runtime.factory, "cam")
    whole = list(_off([Classifier.open(options)], "teaching is off (teach = false)").routes)
    table = routes(whole, teachers)
    assert call(table, "GET", "/api/teach")[1]["enabled"] is False  # the whole frame: as before
    assert call(table, "POST", "/api/teach/examples", label="x")[0] == 404  # no region named
    code, answer = call(table, "GET", "/api/teach", region="porch")
    assert code == 409 and "porch" in answer["error"]

    first, second = species()[:2]
    for name in (first, second):
        for photo in photos("train", name, 3):
            code, added = call(table, "POST", "/api/teach/examples", photo.read_bytes(), region="door", label=name)
            assert code == 201 and added["label"] == name, added
    # an example from the camera is the region's crop, as the runtime classified it
    teacher = teachers.known("cam", "door")
    assert teacher is not None
    crop = Frame(np.full((60, 40, 3), 90, np.uint8), 5)
    teacher.observe(crop, runtime.running("door").classify_frame(crop))
    code, added = call(table, "POST", "/api/teach/examples", region="door", label=first)
    assert code == 201 and added["examples"] == 4
    stored = [p for p in (teach_root(tmp_path, "cam", "door") / "examples" / first).iterdir() if p.suffix == ".jpg"]

    assert sorted(imread(p).shape[:2] for p in stored)[0] == (60, 40)

    code, trained = call(table, "POST", "/api/teach/train", region="door")
    assert code == 200 and sorted(trained["classes"]) == sorted([first, second]), trained
    assert runtime.running("door").info.name.startswith("taught on")  # the region's slot runs it now
    code, status = call(table, "GET", "/api/teach", region="door")
    assert code == 200 and status["trained"] and status["region"] == "door"
    url = status["classes"][0]["photos"][0]
    assert url.endswith("region=door&camera=cam")
    path, _, query = url.partition("?")
    code, thumbnail = call(table, "GET", path, **dict(item.split("=") for item in query.split("&")))
    assert code == 200 and thumbnail[:3] == b"\xff\xd8\xff"
    # another region knows nothing of it
    assert call(table, "GET", "/api/teach", region="bins")[1]["classes"] == []

    # after a restart the region runs its taught model; a region with nothing taught its configured one
    again = choose_region_model(tmp_path, "cam", "door", [Classifier.open(options)], options, live=True)
    assert again.taught is not None and sorted(again.taught.labels) == sorted([first, second])
    plain = choose_region_model(tmp_path, "cam", "bins", [Classifier.open(options)], options, live=True)
    assert plain.taught is None
    assert not (tmp_path / "teach").exists()  # the whole frame's store was never touched
