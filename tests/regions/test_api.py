"""Regions made and changed through /api/regions: kept in the state dir, config ones read-only,
bad boxes refused with words that name the problem; the board shows each region's live state."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from edge_app.bus import Classified, StateChanged
from edge_app.endpoints import Reply, Request, find
from edge_app.frames import Frame, Label, Result
from edge_app.regions.board import RegionBoard
from edge_app.regions.book import RegionBook
from edge_app.regions.http import routes
from edge_app.regions.spec import Box, RegionSpec
from edge_app.regions.states import SavedState, region_dir, save, teach_root
from edge_app.regions.store import REGIONS_FILE, PageRegions

DOOR = RegionSpec("door", Box(0.1, 0.1, 0.4, 0.9), on_motion=True)


class Api:
    def __init__(self, state_dir: Path | None, configured: tuple[RegionSpec, ...] = (DOOR,)) -> None:
        self.book = RegionBook("cam", configured, state_dir)
        self.board = RegionBoard()
        self.board.set_regions("cam", self.book.specs)
        self.book.on_change(lambda specs: self.board.set_regions("cam", specs))
        self.routes = tuple(routes({"cam": self.book}, self.board))

    def call(self, method: str, path: str, body: object = None, **query: str) -> tuple[int, dict]:
        raw = body if isinstance(body, bytes) else (b"" if body is None else json.dumps(body).encode())
        request = Request(method, path, {k: [v] for k, v in query.items()}, {}, raw)
        match = find(self.routes, method, path)
        assert match.route is not None, (method, path)
        reply: Reply = match.route.handler(request)
        return reply.status, json.loads(reply.body)


def test_make_move_and_delete_a_region(tmp_path: Path) -> None:
    api = Api(tmp_path)
    status, made = api.call("PUT", "/api/regions/bins", {"box": [0.5, 0.5, 0.9, 0.95], "every": 30})
    assert status == 201 and made["origin"] == "page" and made["every"] == 30.0
    status, moved = api.call("PUT", "/api/regions/bins", {"box": [0.4, 0.5, 0.8, 0.95]})
    assert status == 200 and moved["box"] == [0.4, 0.5, 0.8, 0.95] and moved["every"] == 30.0  # kept
    status, listing = api.call("GET", "/api/regions")
    assert status == 200 and listing["editable"]
    assert [(r["name"], r["origin"]) for r in listing["regions"]] == [("door", "config"), ("bins", "page")]
    assert "state" in listing["regions"][1]
    # after a restart the page's region is back, with the config file's
    again = Api(tmp_path)
    assert [s.name for s in again.book.specs] == ["door", "bins"]
    assert again.book.get("bins") == RegionSpec("bins", Box(0.4, 0.5, 0.8, 0.95), every=30.0, origin="page")
    status, gone = again.call("DELETE", "/api/regions/bins")
    assert status == 200 and gone == {"deleted": "bins", "examples_kept": True}
    assert [s.name for s in Api(tmp_path).book.specs] == ["door"]
    assert again.call("DELETE", "/api/regions/bins")[0] == 404


def test_config_regions_are_read_only(tmp_path: Path) -> None:
    api = Api(tmp_path)
    for method, body in (("PUT", {"box": [0, 0, 1, 1]}), ("DELETE", None)):
        status, answer = api.call(method, "/api/regions/door", body)
        assert status == 409 and "config file" in answer["error"]
    assert api.call("PUT", "/api/regions/frame", {"box": [0, 0, 1, 1]})[0] == 409
    assert api.book.get("door") == DOOR


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"box": [0.1, 0.2, 1.5, 0.9]}, "outside 0 to 1"),
        ({"box": [0.5, 0.2, 0.5, 0.9]}, "empty"),
        ({"box": [0.6, 0.2, 0.5, 0.9]}, "reversed"),
        ({"box": [0.1, 0.2, 0.3]}, "4 numbers"),
        ({"box": "nope"}, "4 numbers"),
        ({}, "needs a box"),
        ({"box": [0, 0, 1, 1], "confirm": 0}, "confirm"),
        ({"box": [0, 0, 1, 1], "threshold": 2}, "threshold"),
        ({"box": [0, 0, 1, 1], "colour": "red"}, "unknown key 'colour'"),
        (b"{not json", "not JSON"),
        ([1, 2], "JSON object"),
    ],
)
def test_bad_bodies_are_a_400_naming_the_problem(tmp_path: Path, body: object, words: str) -> None:
    api = Api(tmp_path)
    status, answer = api.call("PUT", "/api/regions/bins", body)
    assert status == 400 and words in answer["error"]
    assert [s.name for s in api.book.specs] == ["door"]  # nothing kept
    assert not (tmp_path / "regions" / "cam" / REGIONS_FILE).exists()


def test_bad_names_and_cameras(tmp_path: Path) -> None:
    api = Api(tmp_path)
    assert api.call("PUT", "/api/regions/Bad Name", {"box": [0, 0, 1, 1]})[0] == 400
    assert api.call("PUT", "/api/regions/..", {"box": [0, 0, 1, 1]})[0] == 400
    assert api.call("GET", "/api/regions", camera="other")[0] == 404


def test_deleting_keeps_examples_unless_asked(tmp_path: Path) -> None:
    api = Api(tmp_path)
    for name in ("a", "b"):
        api.call("PUT", f"/api/regions/{name}", {"box": [0, 0, 0.5, 0.5]})
        save(tmp_path, "cam", name, SavedState("open", 1.0, 0.9))
        examples = teach_root(tmp_path, "cam", name) / "examples" / "open"
        examples.mkdir(parents=True)
        (examples / "x.jpg").write_bytes(b"photo")
        (teach_root(tmp_path, "cam", name) / "model.tflite").write_bytes(b"model")
    api.call("DELETE", "/api/regions/a")
    assert (teach_root(tmp_path, "cam", "a") / "examples" / "open" / "x.jpg").exists()
    assert not (teach_root(tmp_path, "cam", "a") / "model.tflite").exists()
    assert not (region_dir(tmp_path, "cam", "a") / "state.json").exists()
    assert api.call("DELETE", "/api/regions/b", examples="delete")[1]["examples_kept"] is False
    assert not region_dir(tmp_path, "cam", "b").exists()


def test_a_damaged_regions_file_is_moved_aside(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "regions" / "cam" / REGIONS_FILE
    path.parent.mkdir(parents=True)
    for text in ('{"regions": [{"name": "x", "box": [2, 0, 1, 1]}]}', "{oops", '{"regions": 3}'):
        path.write_text(text)
        with caplog.at_level(logging.WARNING, "edge_app.regions"):
            caplog.clear()
            assert PageRegions(tmp_path, "cam").load() == ()
        assert len(caplog.records) == 1 and "damaged" in caplog.text
        assert not path.exists()
    assert Api(tmp_path).call("PUT", "/api/regions/x", {"box": [0, 0, 1, 1]})[0] == 201


def test_a_page_region_named_like_a_config_one_is_dropped(tmp_path: Path) -> None:
    PageRegions(tmp_path, "cam").save([RegionSpec("door", Box(0, 0, 1, 1), origin="page")])
    assert Api(tmp_path).book.specs == (DOOR,)


def test_without_a_state_dir_nothing_is_kept(tmp_path: Path) -> None:
    api = Api(None)
    assert api.call("PUT", "/api/regions/x", {"box": [0, 0, 1, 1]})[0] == 201
    assert api.call("GET", "/api/regions")[1]["editable"] is False


def test_an_unwritable_state_dir_is_a_507(tmp_path: Path) -> None:
    (tmp_path / "regions").write_text("a file where the folder should be")
    status, answer = Api(tmp_path).call("PUT", "/api/regions/x", {"box": [0, 0, 1, 1]})
    assert status == 507 and "cannot keep the regions" in answer["error"]


def _frame(seq: int) -> Frame:
    return Frame(np.zeros((4, 4, 3), np.uint8), seq, ts=1000.0 + seq, mono=float(seq))


def _result(seq: int, label: str, score: float) -> Result:
    return Result(seq, 1000.0 + seq, float(seq), (Label(0, label, score), Label(1, "other", 1 - score)), 5.0)


def test_the_board_follows_results_and_states(tmp_path: Path) -> None:
    board = RegionBoard()
    seen: list[tuple[str, str]] = []
    board.on_change(lambda view, what: seen.append((view.name, what)))
    board.set_regions("cam", (DOOR,), {"door": SavedState("closed", 500.0, 0.9)})
    view = board.view("cam", "door")
    assert view is not None and view.state == "closed" and view.restored and view.runs == 0
    board.handle(Classified("cam", "door", _frame(1), _result(1, "open", 0.95), DOOR.box, "closed", True))
    board.handle(Classified("cam", "frame", _frame(1), _result(1, "x", 0.5)))  # the whole frame: not a region here
    board.handle(StateChanged("cam", "door", "open", "closed", 0.97, _frame(2), DOOR.box, 1002.0, (("open", 0.97),)))
    board.handle(Classified("cam", "door", _frame(2), _result(2, "open", 0.97), DOOR.box, "open", False))
    status = board.status("cam")["door"]
    assert status["state"] == "open" and status["since"] == 1002.0 and status["runs"] == 2
    assert status["last_run"] == 1002.0 and status["score"] == 0.97 and status["changes"] == 1
    assert status["restored"] is False and status["pending"] is False and status["inference_ms"] == 5.0
    assert seen == [("door", "regions"), ("door", "result"), ("door", "state"), ("door", "result")]
    board.set_regions("cam", (DOOR, RegionSpec("bins", Box(0, 0, 1, 1))))
    assert board.status("cam")["door"]["runs"] == 2  # kept across an edit
    board.set_classes("cam", "bins", ["in", "out"])
    view = board.view("cam", "bins")
    assert view is not None and view.classes == ("in", "out")


def test_status_gains_regions() -> None:
    from tests.helpers.pipeline_fakes import fake_state

    state = fake_state()
    board = RegionBoard()
    board.set_regions("cam", (DOOR,), {"door": SavedState("closed", 500.0, 0.9)})
    state.add_section("regions", board.status)
    status: dict[str, Any] = state.status()
    door = status["regions"]["door"]
    assert (door["state"], door["since"], door["runs"], door["last_run"], door["restored"]) == (
        "closed",
        500.0,
        0,
        None,
        True,
    )
