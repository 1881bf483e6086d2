"""The events subscriber on a Bus: changes become rows with snapshots (and clips), results worth a
look become review frames, watched labels are events, a full disk stops files and nothing else,
retention takes the oldest with their files; and the HTTP routes over all of it."""

from __future__ import annotations

import errno
import json
import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from edge_app.bus import Bus
from edge_app.endpoints import Reply, Request, find
from edge_app.events import keeper as keeper_module
from edge_app.events.http import byte_range, routes
from edge_app.events.keeper import EventKeeper
from edge_app.events.store import EventStore, Query
from edge_app.settings.sections.events import EventsConfig
from tests.helpers.events import RecordingTeacher, changed, classified, shown
from tests.helpers.pictures import imread


def _keeper(tmp_path: Path, teacher: RecordingTeacher | None = None, **config: object) -> EventKeeper:
    teacher = teacher or RecordingTeacher()
    return EventKeeper(EventsConfig.from_table(config), EventStore(tmp_path), lambda camera, region: teacher)


def _run(keeper: EventKeeper, events: Sequence[object]) -> None:
    bus = Bus(lossless=True)
    keeper.attach(bus)
    bus.start()
    for event in events:
        bus.publish(event)
    bus.close(10)
    keeper.store.flush()


def _call(table: list, method: str, path: str, body: object = None, **headers: str) -> Reply:
    url, _, query = path.partition("?")
    params: dict[str, list[str]] = {}
    for pair in filter(None, query.split("&")):
        key, _, value = pair.partition("=")
        params.setdefault(key, []).append(value)
    data = b"" if body is None else json.dumps(body).encode()
    match = find(table, method, url)
    assert match.route is not None, (method, url)
    return match.route.handler(Request(method, url, params, headers, data))


def test_a_state_change_is_a_row_with_its_snapshot_and_crop(tmp_path: Path) -> None:
    keeper = _keeper(tmp_path)
    _run(keeper, [changed(1, "open", None), changed(2, "closed", "open")])
    page = keeper.store.page(Query())
    assert [(r.label, r.previous) for r in page.events] == [("closed", "open"), ("open", None)]
    row = page.events[0]
    assert row.snapshot is not None and row.crop is not None
    full = imread(keeper.store.file(row.snapshot))
    crop = imread(keeper.store.file(row.crop))
    assert full.shape == (120, 160, 3) and crop.shape == (60, 80, 3)  # the door's half of the width and height
    assert row.bytes == keeper.store.file(row.snapshot).stat().st_size + keeper.store.file(row.crop).stat().st_size
    keeper.close()


def test_results_worth_a_look_become_review_frames_with_their_crops(tmp_path: Path) -> None:
    keeper = _keeper(tmp_path, RecordingTeacher(taught=True))
    keeper.picker.options = keeper.picker.options.__class__(every_s=0.0)
    vector = np.arange(8, dtype=np.float32)
    _run(
        keeper,
        [
            classified(1, "open", 0.99, state="open", embedding=vector),  # first
            classified(2, "open", 0.99, state="open"),  # nothing to see
            classified(3, "open", 0.40, state="open"),  # low score
            classified(4, "closed", 0.95, state="open"),  # differs
        ],
    )
    frames = keeper.review.recent("cam", "door")
    assert [(f.label, f.reason) for f in frames] == [("closed", "differs"), ("open", "low score"), ("open", "first")]
    last = frames[-1].vector()
    assert last is not None and np.array_equal(last, vector)
    assert imread(keeper.store.file(frames[0].crop)).shape == (60, 80, 3)
    keeper.close()


def test_a_watched_whole_frame_label_starting_and_ending_is_an_event(tmp_path: Path) -> None:
    keeper = _keeper(tmp_path, watch=["bird"])
    results = [classified(i, "bird" if 2 <= i < 6 else "sky", 0.9, region="frame", box=None) for i in range(10)]
    _run(keeper, results)
    rows = keeper.store.page(Query()).events
    assert [(r.kind, r.label) for r in reversed(rows)] == [("start", "bird"), ("end", "bird")]
    keeper.close()


def test_a_full_disk_stops_snapshots_with_one_line_and_rows_go_on(tmp_path: Path, monkeypatch, caplog) -> None:
    keeper = _keeper(tmp_path)

    def full(path: Path, data: bytes, durable: bool = True) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(keeper_module, "atomic_write_bytes", full)
    monkeypatch.setattr(keeper, "sweep", lambda: None)  # retention would find room on this disk
    with caplog.at_level(logging.ERROR, "edge_app.events"):
        _run(keeper, [changed(i, "open" if i % 2 else "closed", None) for i in range(5)])
    assert keeper.store.count(Query()) == 5
    assert all(row.snapshot is None for row in keeper.store.page(Query()).events)
    assert sum("snapshots and clips stop" in r.getMessage() for r in caplog.records) == 1
    keeper.close()


def test_a_tiny_keep_mb_deletes_the_oldest_first_with_their_files(tmp_path: Path) -> None:
    keeper = _keeper(tmp_path, keep_mb=0.004)  # about two events' pictures
    _run(keeper, [changed(i, f"s{i}", None) for i in range(6)])
    rows = keeper.store.page(Query()).events
    assert 1 <= len(rows) < 6
    assert [r.label for r in rows] == [f"s{i}" for i in range(5, 5 - len(rows), -1)]  # the newest kept
    names = {r.snapshot for r in rows} | {r.crop for r in rows}
    on_disk = {p.name for p in keeper.store.media.glob("*.jpg")}
    assert on_disk == names
    keeper.close()


def test_a_region_with_clips_gets_a_clip_of_pre_and_post(tmp_path: Path) -> None:
    keeper = _keeper(tmp_path, clips=True, pre_s=1.0, post_s=1.0)

    change = changed(60, "open", None)
    _run(  # a lossless bus: every frame reaches the encoder, as in batch mode (live, a full queue drops)
        keeper,
        [shown(seq, 50.0 + seq / 30) for seq in range(60)]
        + [replace(change, frame=replace(change.frame, mono=52.0))]
        + [shown(seq, 50.0 + seq / 30) for seq in range(60, 150)],
    )
    keeper.close(20)
    row = keeper.store.page(Query()).events[0]
    assert row.clip is not None and keeper.store.file(row.clip).stat().st_size > 0
    assert row.bytes > keeper.store.file(row.clip).stat().st_size
    import av

    with av.open(str(keeper.store.file(row.clip))) as container:
        times = [f.time for f in container.decode(container.streams.video[0])]
    stamps = [t for t in times if t is not None]
    assert len(stamps) == len(times) and stamps[0] == 0.0 and abs(stamps[-1] + 1 / 30 - 2.0) <= 0.5  # pre_s + post_s
    keeper.close()


def test_the_http_routes(tmp_path: Path) -> None:
    teacher = RecordingTeacher()
    keeper = _keeper(tmp_path, teacher)
    keeper.picker.options = keeper.picker.options.__class__(every_s=0.0)
    _run(
        keeper,
        [changed(1, "open", None), changed(2, "closed", "open")]
        + [classified(i, "open", 0.3, state="closed") for i in range(3, 9)],
    )
    table = routes(keeper)
    listing = json.loads(_call(table, "GET", "/api/events?limit=1").body)
    assert listing["unreviewed"] == 2 and listing["next"] is not None and len(listing["events"]) == 1
    older = json.loads(_call(table, "GET", f"/api/events?limit=1&before={listing['next']}").body)
    assert older["events"][0]["label"] == "open" and older["next"] is None
    event_id = listing["events"][0]["id"]
    snapshot = _call(table, "GET", f"/api/events/{event_id}/snapshot.jpg")
    assert snapshot.status == 200 and snapshot.body.startswith(b"\xff\xd8")
    part = _call(table, "GET", f"/api/events/{event_id}/snapshot.jpg", Range="bytes=2-9")
    assert part.status == 206 and part.body == snapshot.body[2:10]
    assert ("Content-Range", f"bytes 2-9/{len(snapshot.body)}") in part.headers
    assert _call(table, "GET", f"/api/events/{event_id}/clip.mp4").status == 404
    assert _call(table, "POST", f"/api/events/{event_id}/reviewed").status == 200
    assert json.loads(_call(table, "GET", "/api/events").body)["unreviewed"] == 1
    for bad in ("/api/events?since=soon", "/api/events?limit=0", "/api/events?reviewed=maybe"):
        reply = _call(table, "GET", bad)
        assert reply.status == 400 and "error" in json.loads(reply.body)
    assert _call(table, "GET", "/api/events/999").status == 404
    assert _call(table, "GET", "/api/events/x1").status == 404

    queue = json.loads(_call(table, "GET", "/api/review?region=door").body)["frames"]
    ids = [frame["id"] for frame in queue]
    assert len(ids) == 6
    assert _call(table, "GET", f"/api/review/{ids[0]}/crop.jpg").body.startswith(b"\xff\xd8")
    assert _call(table, "POST", "/api/review/assign", {"ids": ids[:4], "label": ""}).status == 400
    assert _call(table, "POST", "/api/review/assign", {"ids": "all", "label": "open"}).status == 400
    assigned = json.loads(
        _call(table, "POST", "/api/review/assign", {"ids": ids[:4], "label": "open", "train": True}).body
    )
    assert assigned["added"] == 4 and "trained" in assigned
    assert [label for label, _, _ in teacher.examples] == ["open"] * 4 and teacher.trainings == 1
    assert json.loads(_call(table, "POST", "/api/review/discard", {"ids": ids[4:]}).body)["discarded"] == 2
    assert json.loads(_call(table, "GET", "/api/review?region=door").body)["frames"] == []
    assert _call(table, "POST", "/api/review/assign", {"ids": ids[:1], "label": "open"}).status == 404

    wrong = _call(table, "POST", f"/api/events/{event_id}/assign", {"label": "open"})
    assert wrong.status == 200 and len(teacher.examples) == 5
    assert _call(table, "DELETE", f"/api/events/{event_id}").status == 200
    assert _call(table, "GET", f"/api/events/{event_id}").status == 404
    assert _call(table, "GET", "/events").body.startswith(b"<!doctype html>")
    keeper.close()


def test_a_refused_training_keeps_the_assigned_frames_as_examples_and_out_of_the_queue(tmp_path: Path) -> None:
    """ "These are X, train" with too few examples: the answer says why, the frames are examples
    already (nothing lost), and assigning them again cannot add them twice."""
    teacher = RecordingTeacher(refuse="each class needs at least 2 examples")
    keeper = _keeper(tmp_path, teacher)
    keeper.picker.options = keeper.picker.options.__class__(every_s=0.0)
    _run(keeper, [changed(1, "open", None)] + [classified(i, "open", 0.3, state="closed") for i in range(2, 4)])
    table = routes(keeper)
    ids = [frame["id"] for frame in json.loads(_call(table, "GET", "/api/review?region=door").body)["frames"]]
    refused = _call(table, "POST", "/api/review/assign", {"ids": ids, "label": "open", "train": True})
    assert refused.status == 422 and "at least 2" in json.loads(refused.body)["error"]
    assert len(teacher.examples) == len(ids) and teacher.trainings == 0
    assert json.loads(_call(table, "GET", "/api/review?region=door").body)["frames"] == []
    assert _call(table, "POST", "/api/review/assign", {"ids": ids, "label": "open"}).status == 404
    keeper.close()


@pytest.mark.parametrize(
    "header, expected",
    [
        (None, None),
        ("bytes=0-", (0, 99)),
        ("bytes=10-19", (10, 19)),
        ("bytes=-10", (90, 99)),
        ("bytes=90-500", (90, 99)),
    ],
)
def test_byte_ranges(header: str | None, expected: tuple[int, int] | None) -> None:
    assert byte_range(header, 100) == expected


def test_a_range_past_the_end_is_416() -> None:
    from edge_app.events.http import BadRequest

    with pytest.raises(BadRequest) as raised:
        byte_range("bytes=100-", 100)
    assert raised.value.status == 416
