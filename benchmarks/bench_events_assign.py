"""Bulk labelling: assigning 50 review frames to a class and retraining, end to end, against
doing the same one frame at a time (as Frigate's page does), in one run.

A real Teacher (the whole frame, the default model from ../shared) with a thread playing the
inference loop (so a swapped-in model goes live as in a run). 50 review frames, 25 of each of two
flower species from ../shared/flowers-4, reach the review queue as the keeper keeps them: crops,
the full frame, and the live model's embedding. Then POST /api/review/assign {"ids": [...],
"label": ..., "train": true} (its route handler) per species, timed until the new model is live;
the baseline assigns each frame with its own request and trains once at the end. Afterwards the
live model is asked about held-out photos of each species: the state follows the new classes.

    python benchmarks/bench_events_assign.py

Target (issue 19): 50 frames assigned + retrained in under 2 s.
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
from pathlib import Path

from _common import SHARED

from edge_app.app import base_model
from edge_app.bus import Classified
from edge_app.endpoints import Request, find
from edge_app.events.http import routes
from edge_app.events.keeper import EventKeeper
from edge_app.events.review import ReviewOptions, ReviewPicker
from edge_app.events.store import EventStore
from edge_app.events.teaching import whole_frame
from edge_app.frames import Frame
from edge_app.settings import resolve
from edge_app.settings.sections.events import EventsConfig
from edge_app.teach.setup import TeachOptions
from edge_app.teach.setup import setup as setup_teaching
from tests.helpers.pictures import imread

FLOWERS = SHARED / "flowers-4"


def post(table: list, path: str, body: object) -> dict:
    route = find(table, "POST", path).route
    assert route is not None
    reply = route.handler(Request("POST", path, {}, {}, json.dumps(body).encode()))
    assert reply.status == 200, reply.body
    return json.loads(reply.body)


def run(folder: Path, one_by_one: bool) -> tuple[float, dict[str, str]]:
    settings = resolve({"state_dir": str(folder / "state"), "source": "synthetic"}, None, environ={})
    teaching = setup_teaching(
        TeachOptions(settings.model.teach, settings.state_path, settings.camera.model.options),
        base_model(settings, False),
        False,
    )
    teacher = teaching.teacher
    assert teacher is not None, "teaching needs the default model from ../shared"
    stop = threading.Event()
    probe = imread(sorted((FLOWERS / "test" / "daisy").iterdir())[0])

    def inference() -> None:  # the pipeline's part: classify, then say it is published
        seq = 0
        while not stop.is_set():
            classifier = teaching.slot.current
            classifier.classify_frame(Frame(probe, seq))
            teaching.slot.published(classifier)
            seq += 1
            stop.wait(1 / 30)

    keeper = EventKeeper(
        EventsConfig.from_table({"review_below": 1.0}), EventStore(folder / "state"), whole_frame(teacher)
    )
    keeper.picker = ReviewPicker(ReviewOptions(below=1.0, every_s=0.0))
    kinds = sorted(p.name for p in (FLOWERS / "train").iterdir())[:2]
    for kind in kinds:
        for photo in sorted((FLOWERS / "train" / kind).iterdir())[:25]:
            image = imread(photo)
            frame = Frame(image, 0)
            result = teaching.slot.current.classify_frame(frame)
            keeper.classified(Classified("cam", "frame", frame, result, None, None, True))
    keeper.store.flush()
    rows = sorted(keeper.review.recent("cam", "frame", 1000), key=lambda r: r.id)
    assert len(rows) == 50, len(rows)
    table = routes(keeper)
    loop = threading.Thread(target=inference, daemon=True)  # started after the frames: one interpreter
    loop.start()
    started = time.monotonic()
    for index, kind in enumerate(kinds):
        ids = [row.id for row in rows[index * 25 : index * 25 + 25]]
        last = index == len(kinds) - 1
        if one_by_one:
            for frame_id in ids:
                post(table, "/api/review/assign", {"ids": [frame_id], "label": kind, "train": False})
            if last:
                teacher.train()
        else:
            post(table, "/api/review/assign", {"ids": ids, "label": kind, "train": last})
    seconds = time.monotonic() - started
    stop.set()
    loop.join(2)
    answers = {}
    for kind in kinds:
        held_out = imread(sorted((FLOWERS / "test" / kind).iterdir())[0])
        answers[kind] = teaching.slot.current.classify_frame(Frame(held_out, 0)).top[0].label
    keeper.close()
    return seconds, answers


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        bulk, answers = run(Path(folder) / "bulk", one_by_one=False)
        single, _ = run(Path(folder) / "single", one_by_one=True)
    print(f"bulk assign 50 frames + train: {bulk:.2f} s   one at a time + train: {single:.2f} s")
    print(f"bulk / one at a time = {bulk / single:.2f};  bulk / 2 s target = {bulk / 2:.2f} (target < 1)")
    print("held-out photos after training: " + ", ".join(f"{k} -> {v}" for k, v in answers.items()))


if __name__ == "__main__":
    main()
