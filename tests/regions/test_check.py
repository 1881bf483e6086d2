"""Issue 18's check end to end: a 2-minute generated video in which two regions change on their
own schedules while the rest of the frame pans and switches. The feeder's classifier is trained
with the real `edge-app train` (flowers-4) and named by path in its `[regions.feeder]` table;
the porch's is taught through /api/teach?region=porch with uploaded photos, over HTTP. Photos in
the video are flowers-4's test photos, seen by neither. Per region, over the frames read back
from the file with its timestamps: the verified state against the truth outside a short window
after each true change, no change where only the photo changed and not the class, and how often
the region ran while nothing moved inside it.

The first test chains the region modules as a camera's runtime chains them (region_scenes.watch);
the second runs the same check through the real program: the porch taught over the running app's
own API, then `edge-app run --no-realtime --events` over the video, judged from its lines."""

from __future__ import annotations

import json
import re
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import cv2
import numpy as np
import pytest

from edge_app.address import parse_address
from edge_app.frames import Frame
from edge_app.model.classifier import Classifier
from edge_app.model.options import ModelOptions
from edge_app.regions.spec import Box, RegionSpec, parse_table
from edge_app.regions.teaching import RegionTeachers, routes
from edge_app.teach.setup import _off
from edge_app.web.sink import HttpSink
from tests.fakes.cli_run import run_module
from tests.helpers.app_process import start
from tests.helpers.live_view import FakeStatus, get
from tests.helpers.ports import free_port
from tests.helpers.region_scenes import Scene, Track, Watched, judge, schedule, watch
from tests.helpers.shared_data import IMAGES
from tests.helpers.teach import Client, RegionRuntime, photos
from tests.helpers.waiting import wait_until

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

pytestmark = [pytest.mark.shared, pytest.mark.slow]
FLOWERS = IMAGES.parent / "flowers-4"
BASE = "mobilenet_v2_1.0_224_quant"
SECONDS, FPS = 120.0, 10.0
WINDOW_S = 1.5  # after a true change the state may lag this long (motion, then `confirm` runs)
IDLE_S = WINDOW_S  # a region may still run this long after its photo changed
EVERY_S = 30.0  # the feeder's interval, as in the example: its only runs while nothing moves
PORCH = Box(0.55, 0.45, 0.95, 0.92)
FEEDER_TABLE = """
[regions.feeder]
box = [0.05, 0.08, 0.45, 0.62]
model = "{model}"
on_motion = true
every = 30
confirm = 3
threshold = 0.8
"""


def flower(species: str, index: int) -> tuple[Path, str]:
    """One of flowers-4's test photos (neither model saw it) and its true class."""
    return photos("test", species)[index], species


@pytest.fixture
def trained(model_cache: Path, tmp_path: Path) -> Path:
    """The feeder's model, from the real command in a child process, by path."""
    out = tmp_path / "feeder.tflite"
    run = run_module(
        "train", str(FLOWERS / "train"), "--out", str(out), "--base", BASE, "--workers", "1",
        env={"XDG_CACHE_HOME": str(tmp_path / "xdg")}, timeout=600,
    )  # fmt: skip
    assert run.code == 0, run.err
    return out


@pytest.fixture
def taught(model_cache: Path, tmp_path: Path) -> Iterator[Classifier]:
    """The porch's model, taught over HTTP with uploaded photos (flowers-4's training photos of two
    species): what the Teach panel sends when the porch is picked."""
    options = ModelOptions(model=BASE, threads=1)
    runtime = RegionRuntime(tmp_path / "state", options, ("porch",))
    teachers = RegionTeachers(runtime.factory, "cam")
    whole = list(_off([Classifier.open(options)], "the whole frame is not taught here").routes)
    sink = HttpSink(parse_address("0"), FakeStatus(), routes=routes(whole, teachers))
    sink.start(threading.Event())
    try:
        client = Client(sink.url)
        for species in ("bluebell", "sunflower"):
            for photo in photos("train", species, 10):
                path = f"/api/teach/examples?region=porch&label={quote(species)}"
                code, added = client.call("POST", path, photo.read_bytes(), "image/jpeg")
                assert code == 201, added
        code, trained = client.call("POST", "/api/teach/train?region=porch")
        assert code == 200 and sorted(trained["classes"]) == ["bluebell", "sunflower"], trained
        yield runtime.running("porch")
    finally:
        sink.close()


def read_back(path: Path) -> Iterator[tuple[float, np.ndarray]]:
    """The video's frames with the file's timestamps, as a batch run (--no-realtime) gates on."""
    capture = cv2.VideoCapture(str(path))
    try:
        while True:
            ok, image = capture.read()
            if not ok:
                return
            yield capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0, image
    finally:
        capture.release()


def panning_scene(feeder_box: Box) -> Scene:
    """Two regions changing on their own schedules while the background pans and switches."""
    feeder = Track(
        "feeder",
        feeder_box,
        schedule(
            [flower("buttercup", 0), flower("buttercup", 1), flower("daisy", 0),
             flower("bluebell", 0), flower("daisy", 1), flower("sunflower", 0)],
            [9, 7, 12, 8, 10, 11, 9, 6, 14, 10, 12, 200],
        ),
    )  # fmt: skip
    porch = Track(
        "porch",
        PORCH,
        schedule(
            [flower("bluebell", 2), flower("sunflower", 2), flower("sunflower", 3),
             flower("bluebell", 3)],
            [13, 8, 10, 15, 7, 12, 9, 16, 11, 200],
        ),
    )  # fmt: skip
    backgrounds = [IMAGES / "grace_hopper.bmp", IMAGES / "hot_dog.jpg", IMAGES / "bird.bmp"]
    return Scene([feeder, porch], backgrounds, FPS, SECONDS, pan_px_per_s=40.0, switch_s=13.0)


def test_two_regions_one_trained_one_taught_on_a_panning_video(
    trained: Path, taught: Classifier, tmp_path: Path
) -> None:
    feeder_spec = parse_table("feeder", tomllib.loads(FEEDER_TABLE.format(model=trained))["regions"]["feeder"])
    porch_spec = RegionSpec("porch", PORCH, on_motion=True)  # the page's defaults: threshold 0.8, confirm 3
    scene = panning_scene(feeder_spec.box)
    video = scene.write(tmp_path / "scene.avi")
    models = {"feeder": Classifier.open(ModelOptions(model=feeder_spec.model or "", threads=1)), "porch": taught}

    def top(region: str, crop: np.ndarray) -> tuple[str, float]:
        best = models[region].classify_frame(Frame(crop, 0)).top[0]
        return best.label, best.score

    watched = watch(read_back(video), [feeder_spec, porch_spec], top)
    assert len(watched.states) == scene.frames
    check(scene, watched)


def check(scene: Scene, watched: Watched) -> None:
    words = {name: name for name in ("bluebell", "buttercup", "daisy", "sunflower")}
    for track in scene.tracks:
        verdict = judge(scene, watched, track, words, WINDOW_S, IDLE_S)
        print(
            f"{track.name}: {len(verdict.wrong)} wrong frames outside the window, {verdict.changes} verified "
            f"changes for {verdict.expected_changes} true, {len(verdict.idle_runs)} runs while still, "
            f"ran on {100 * verdict.share_run:.1f} % of {scene.frames} frames"
        )
        assert not verdict.wrong, (track.name, verdict.wrong[:5])
        # one verified change per true class change (the first state included), none for a new photo alone
        assert verdict.changes == verdict.expected_changes, (track.name, watched.changes[track.name])
        # while nothing moves inside it a region runs only on its interval
        allowed = SECONDS // EVERY_S if track.name == "feeder" else 0
        assert len(verdict.idle_runs) <= allowed, (track.name, verdict.idle_runs)


def test_the_same_check_through_edge_app_run(trained: Path, model_cache: Path, tmp_path: Path) -> None:
    """The porch is taught through the running app's own API (uploaded photos, then train), the run
    stops, and a batch run over the video starts from the state dir: the porch's taught model, the
    feeder's by path. Its `--events` lines are the verdict's input."""
    port = free_port()
    scene = panning_scene(Box(0.05, 0.08, 0.45, 0.62))
    video = scene.write(tmp_path / "scene.avi")
    config = tmp_path / "config.toml"
    config.write_text(
        f'[model]\nmodel = "{BASE}"\n[source]\nsource = "{video}"\nloop = true\n'
        f'[output]\nhttp = "127.0.0.1:{port}"\n[service]\nstate_dir = "{tmp_path / "state"}"\n'
        + FEEDER_TABLE.format(model=trained)
        + f"[regions.porch]\nbox = [{PORCH.x0}, {PORCH.y0}, {PORCH.x1}, {PORCH.y1}]\non_motion = true\n"
    )
    env = {"XDG_CACHE_HOME": str(tmp_path / "xdg")}
    process, _ = start(["--config", str(config)], env)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: _answers(base), timeout=60, message=lambda: process.log.text())
        client = Client(base)
        for species in ("bluebell", "sunflower"):
            for photo in photos("train", species, 10):
                code, added = client.call(
                    "POST", f"/api/teach/examples?region=porch&label={species}", photo.read_bytes(), "image/jpeg"
                )
                assert code == 201, added
        code, taught = client.call("POST", "/api/teach/train?region=porch")
        assert code == 200 and sorted(taught["classes"]) == ["bluebell", "sunflower"], taught
        assert taught["live"], taught  # a result of the porch's new model was out before the answer
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0, process.log.text()

    lines = tmp_path / "events.jsonl"
    run = run_module(
        "run", "--config", str(config), "--no-realtime", "--no-loop", "--http", str(free_port()),
        "--events", str(lines), env=env, timeout=600,
    )  # fmt: skip
    assert run.code == 0 and "Traceback" not in run.err, run.err
    # each region starts from the state the teaching run left it in, and says so
    restored = dict(re.findall(r"region (\w+): starts from its last state '([^']+)'", run.err))
    assert "feeder" in restored, run.err  # the porch has one only if confirmed after its teaching
    watched = _watched(lines, scene, restored)
    assert len(watched.states) == scene.frames
    check(scene, watched)


def _answers(base: str) -> bool:
    try:
        return get(base, "/api/status")[0] == 200
    except OSError:
        return False


def _watched(path: Path, scene: Scene, restored: dict[str, str]) -> Watched:
    """Per frame, each region's verified state, from the run's `--events` lines and the states it
    started from. A restored state that is right from the start is its first verified state."""
    names = [track.name for track in scene.tracks]
    watched = Watched([], {name: [] for name in names}, {name: [] for name in names})
    changes: dict[int, dict[str, str]] = {}
    for line in map(json.loads, path.read_text().splitlines()):
        if line.get("region") not in names:
            continue
        t = line["frame"] / scene.fps
        if line.get("type") == "state":
            watched.changes[line["region"]].append(t)
            changes.setdefault(line["frame"], {})[line["region"]] = line["state"]
        else:
            watched.runs[line["region"]].append(t)
    state: dict[str, str | None] = {name: restored.get(name) for name in names}
    for name in names:
        if state[name] is not None and not any(t <= WINDOW_S for t in watched.changes[name]):
            watched.changes[name].insert(0, 0.0)
    for index in range(scene.frames):
        state.update(changes.get(index, {}))
        watched.states.append(dict(state))
    return watched
