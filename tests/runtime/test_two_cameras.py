"""Two cameras from one config file in one process: the synthetic source and a video file, each
with its own regions, every result naming its camera and region, through one shared worker."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest

from edge_app.app import RunLoop
from edge_app.bus import Bus, Classified, StateChanged
from edge_app.frames import Frame, Label, Result
from edge_app.regions.spec import Box, RegionSpec
from edge_app.runtime.regions import OneModel, RegionRunner, crop
from edge_app.runtime.setup import Runtime
from edge_app.runtime.setup import setup as setup_runtime
from edge_app.runtime.worker import InferenceWorker, Job
from edge_app.settings import resolve
from tests.helpers.pictures import imdecode
from tests.helpers.videos import make_video


def test_the_worker_runs_the_newest_job_of_each_key_in_the_order_keys_asked() -> None:
    worker = InferenceWorker(threading.Event())
    done: list[tuple[str, int]] = []
    finished = threading.Event()

    def record(key: str, value: int) -> None:
        done.append((key, value))
        if len(done) == 2:
            finished.set()

    for n in range(3):

        def inference(n: int = n) -> int:
            return n

        worker.submit(Job(("a", "frame"), inference, lambda r: record("a", r)))
    worker.submit(Job(("b", "frame"), lambda: 9, lambda r: record("b", r)))
    worker.submit(Job(("a", "frame"), lambda: 3, lambda r: record("a", r)))
    assert worker.pending(("a", "frame")) and worker.stats()["replaced"] == 3
    worker.start()
    assert finished.wait(5.0)
    worker.close(2.0)
    assert done == [("a", 3), ("b", 9)] and worker.stats()["ran"] == 2


class _Model:
    """A classifier stand-in: the label is whether the crop is bright."""

    def classify_frame(self, frame: Frame, tensor: object = None) -> Result:
        bright = float(frame.image.mean()) > 127
        label = Label(1 if bright else 0, "bright" if bright else "dark", 0.99)
        return Result(frame.seq, frame.ts, frame.mono, (label,), 1.0)


def test_a_region_is_cropped_classified_and_confirmed_before_its_state_changes() -> None:
    bus = Bus(lossless=True)
    heard: list[object] = []
    bus.subscribe("test", heard.append, (Classified, StateChanged))
    bus.start()
    worker = InferenceWorker(threading.Event())
    spec = RegionSpec("lamp", Box(0.5, 0.0, 1.0, 0.5), confirm=2, threshold=0.9)
    runner = RegionRunner("yard", [spec], OneModel(_Model()), worker, bus)  # type: ignore[arg-type]  # _Model stands in for a Classifier
    image = np.zeros((40, 40, 3), np.uint8)
    image[:20, 20:] = 255  # only the region's quarter is bright
    frame = Frame(image, 0, ts=1.0, mono=1.0)
    assert crop(frame, spec).image.shape == (20, 20, 3)
    for seq in range(3):
        runner.frame(Frame(image, seq, ts=float(seq), mono=float(seq)))
        job = worker._waiting.popitem(last=False)[1]
        job.done(job.run())
    bus.close()
    results = [e for e in heard if isinstance(e, Classified)]
    changes = [e for e in heard if isinstance(e, StateChanged)]
    assert [(e.camera, e.region, e.result.top[0].label) for e in results] == [("yard", "lamp", "bright")] * 3
    assert [(e.state, e.previous, e.frame.seq) for e in changes] == [("bright", None, 1)]


@pytest.mark.shared
def test_two_cameras_from_one_config_file_run_in_one_process(tmp_path: Path, model_cache: Path) -> None:
    video = make_video(tmp_path / "yard.avi", 60, size=(320, 240))
    events = tmp_path / "events.jsonl"
    config = tmp_path / "config.toml"
    config.write_text(
        f"""
[output]
events = "{events}"
duration = 4.0
[service]
state_dir = "{tmp_path / "state"}"
[cameras.door]
source = "synthetic"
fps = 15
resolution = "320x240"
[cameras.door.regions.step]
box = [0.0, 0.5, 0.5, 1.0]
[cameras.yard]
source = "{video}"
loop = true
[cameras.yard.regions.feeder]
box = [0.1, 0.1, 0.6, 0.6]
every = 0.5
"""
    )
    code = RunLoop({}, config).run(resolve({}, config, environ={}))
    assert code == 0
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    seen = {(line["camera"], line["region"]) for line in lines if line.get("type") != "state"}
    assert {("door", "frame"), ("door", "step"), ("yard", "frame"), ("yard", "feeder")} <= seen
    feeder = [line["ts"] for line in lines if line.get("region") == "feeder" and line.get("type") != "state"]
    assert len(feeder) < len([1 for line in lines if line.get("camera") == "yard" and line["region"] == "frame"])


def _runtime(tmp_path: Path, model: object) -> Runtime:
    """One camera with a region `lamp`, teaching off (so the stand-in model needs no embedding)."""
    from edge_app.pipeline.capture import CaptureOptions
    from edge_app.pipeline.model_slot import ModelSlot
    from edge_app.teach.setup import Teaching

    config = tmp_path / "config.toml"
    config.write_text(
        f'[model]\nteach = false\n[service]\nstate_dir = "{tmp_path / "state"}"\n'
        "[regions.lamp]\nbox = [0.5, 0.0, 1.0, 0.5]\nconfirm = 2\nthreshold = 0.9\n"
    )
    settings = resolve({}, config, environ={})
    slot = ModelSlot(model)  # type: ignore[arg-type]  # a fake model for a Classifier
    teaching = Teaching([model], slot)  # type: ignore[list-item]  # the same fake
    return setup_runtime(settings, slot, teaching, threading.Event(), CaptureOptions(), batch=True)


def _frames(runtime: Runtime, count: int, bright: bool) -> None:
    image = np.zeros((40, 40, 3), np.uint8)
    if bright:
        image[:20, 20:] = 255
    for seq in range(count):
        runtime.on_frame(Frame(image, seq, ts=float(seq), mono=float(seq)))
        assert runtime.shared.worker.wait_idle(5.0)  # each crop runs before the next frame


def test_a_verified_state_is_kept_and_a_restart_starts_from_it(tmp_path: Path) -> None:
    runtime = _runtime(tmp_path, _Model())
    runtime.shared.start(threading.Event())
    _frames(runtime, 3, bright=True)
    runtime.shared.close(5.0)
    view = runtime.board.view("default", "lamp")
    assert view is not None and (view.state, view.changes, view.restored) == ("bright", 1, False)
    again = _runtime(tmp_path, _Model())
    view = again.board.view("default", "lamp")
    assert view is not None and (view.state, view.restored) == ("bright", True)
    changes: list[StateChanged] = []
    again.bus.subscribe("test", changes.append, (StateChanged,))
    again.shared.start(threading.Event())
    _frames(again, 3, bright=True)  # the same state again: no change to announce
    again.shared.close(5.0)
    assert changes == [] and again.cameras["default"].runner.runs == 3


def test_a_region_made_in_the_page_runs_from_the_next_frame(tmp_path: Path) -> None:
    from edge_app.endpoints import Request, find

    runtime = _runtime(tmp_path, _Model())
    put = find(list(runtime.routes), "PUT", "/api/regions/desk").route
    assert put is not None
    body = json.dumps({"box": [0.0, 0.5, 0.5, 1.0]}).encode()
    reply = put.handler(Request("PUT", "/api/regions/desk", {}, {}, body))
    assert reply.status == 201
    assert [spec.name for spec in runtime.cameras["default"].runner.specs] == ["lamp", "desk"]
    heard: list[Classified] = []
    runtime.bus.subscribe("test", heard.append, (Classified,))
    runtime.shared.start(threading.Event())
    _frames(runtime, 1, bright=True)
    runtime.shared.close(5.0)
    assert sorted((e.region, e.result.top[0].label) for e in heard) == [("desk", "dark"), ("lamp", "bright")]


def test_the_live_view_shows_either_camera(tmp_path: Path) -> None:

    from edge_app.address import parse_address
    from edge_app.bus import FrameShown
    from edge_app.web.sink import HttpSink
    from tests.helpers.live_view import get

    sink = HttpSink(
        parse_address("127.0.0.1:0"), lambda: {"cameras": {"door": {}, "yard": {}}}, cameras=("door", "yard")
    )
    stop = threading.Event()
    sink.start(stop)
    try:
        assert sink.shows_cameras
        door, yard = np.zeros((48, 64, 3), np.uint8), np.full((48, 64, 3), 255, np.uint8)
        sink.frame(door, Frame(door, 0), None)
        sink.shown(FrameShown("yard", yard, Frame(yard, 0), None))
        for query, mean in (("", 0), ("?camera=door", 0), ("?camera=yard", 255)):
            status, _, body = get(sink.url, "/snapshot.jpg" + query)
            picture = imdecode(body)
            assert status == 200 and abs(float(picture.mean()) - mean) < 10, query
        status, _, body = get(sink.url, "/stream.mjpg?camera=garden")
        assert status == 404 and b"garden" in body
    finally:
        stop.set()
        sink.close()


class _SlowModel(_Model):
    """Slower than the frames come: in real time the gate would read a stale `pending`."""

    def classify_frame(self, frame: Frame, tensor: object = None) -> Result:
        threading.Event().wait(0.01)
        return super().classify_frame(frame, tensor)


@pytest.mark.parametrize("model", [_Model(), _SlowModel()], ids=["fast", "slow"])
def test_batch_mode_gates_on_each_result_so_a_slow_model_runs_the_same_frames(model: _Model) -> None:
    """A region on motion runs while a change waits for confirmation; in batch mode the gate waits
    for the region's previous result, so which frames run does not depend on the model's speed."""
    stop = threading.Event()
    bus = Bus(lossless=True)
    ran: list[int] = []
    bus.subscribe("test", lambda e: ran.append(e.frame.seq), (Classified,))
    bus.start()
    worker = InferenceWorker(stop, lossless=True)
    worker.start()
    spec = RegionSpec("lamp", Box(0.0, 0.0, 1.0, 1.0), on_motion=True, confirm=3, threshold=0.9)
    runner = RegionRunner("yard", [spec], OneModel(model), worker, bus)  # type: ignore[arg-type]  # a fake model for a Classifier
    dark, bright = np.zeros((40, 40, 3), np.uint8), np.full((40, 40, 3), 255, np.uint8)
    for seq in range(12):
        runner.frame(Frame(bright if seq < 6 else dark, seq, ts=seq / 10, mono=seq / 10))
    assert worker.wait_idle(5.0)
    worker.close(2.0)
    bus.close()
    # frames 0-2 confirm "bright" (the first frame is always due, then `pending` keeps it running),
    # then nothing moves until the switch at 6, whose motion and confirmation run it again
    assert ran[:3] == [0, 1, 2] and 3 not in ran and ran[ran.index(6) : ran.index(6) + 3] == [6, 7, 8]


def test_a_region_whose_model_changed_runs_on_the_next_frame_even_in_a_still_scene() -> None:
    """After teaching, the region's new model must give a result at once (its state may have
    changed, and the training waits to see it live), though nothing moves to wake its gate."""
    stop = threading.Event()
    bus = Bus(lossless=True)
    ran: list[int] = []
    bus.subscribe("test", lambda e: ran.append(e.frame.seq), (Classified,))
    bus.start()
    worker = InferenceWorker(stop, lossless=True)
    worker.start()
    spec = RegionSpec("lamp", Box(0.0, 0.0, 1.0, 1.0), on_motion=True, confirm=1, threshold=0.5)
    runner = RegionRunner("yard", [spec], OneModel(_Model()), worker, bus)  # type: ignore[arg-type]  # _Model stands in for a Classifier
    still = np.zeros((40, 40, 3), np.uint8)
    for seq in range(6):
        if seq == 4:
            runner.rerun("lamp")
        runner.frame(Frame(still, seq, ts=seq / 10, mono=seq / 10))
    assert worker.wait_idle(5.0)
    worker.close(2.0)
    bus.close()
    assert ran == [0, 4]  # its first frame, then the frame after the swap; nothing in between or after
