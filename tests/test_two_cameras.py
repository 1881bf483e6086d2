"""Two cameras from one config file in one process: the synthetic source and a video file, each
with its own regions, every result naming its camera and region, through one shared worker."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest
from videos import make_video

from edge_app.app import RunLoop
from edge_app.bus import Bus, Classified, StateChanged
from edge_app.frames import Frame, Label, Result
from edge_app.regions.spec import Box, RegionSpec
from edge_app.runtime.regions import RegionRunner, crop
from edge_app.runtime.worker import InferenceWorker, Job
from edge_app.settings import resolve


def test_the_worker_runs_the_newest_job_of_each_key_in_the_order_keys_asked() -> None:
    worker = InferenceWorker(threading.Event())
    done: list[tuple[str, int]] = []
    finished = threading.Event()

    def record(key: str, value: int) -> None:
        done.append((key, value))
        if len(done) == 2:
            finished.set()

    for n in range(3):
        worker.submit(Job(("a", "frame"), lambda n=n: n, lambda r: record("a", r)))
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
    runner = RegionRunner("yard", [spec], lambda _: _Model(), worker, bus)  # type: ignore[arg-type, return-value]
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
