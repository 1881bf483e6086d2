"""Issue 18's "the live video's frame rate never waits for regions": displayed fps with 4 regions
`every = 1` against the same run with no regions, in one run, alternating rounds. Target: >= 0.97.

Each round is the real live run (`edge-app run --source SCENE --loop --http ...`, built in-process
as the command builds it) over a generated 640x480 scene at 30 fps, with a browser-like viewer on
/stream.mjpg counting the frames it receives. With regions, a sink on the display thread gates the
4 regions (every 1 s, the frame's time) and hands each due crop to a worker thread that classifies
it with the same model and confirms it, the newest crop winning per region: the shape of core's
shared worker, which this stands in for until its runtime lands. The whole frame is classified on
every frame in both runs, as today.

    python benchmarks/bench_region_fps.py [--seconds 10] [--rounds 2]
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

import _common  # noqa: F401  (paths, offline models)
import numpy as np
from _common import IMAGES

from edge_app.frames import Frame, Result
from edge_app.model.classifier import Classifier
from edge_app.model.options import ModelOptions
from edge_app.regions.confirm import Confirmer
from edge_app.regions.gates import gate_for
from edge_app.regions.spec import Box, RegionSpec
from edge_app.sink import Sink
from edge_app.web.sink import HttpSink
from tests.helpers.live_view import MjpegViewer
from tests.helpers.region_scenes import Change, Scene, Track
from tests.helpers.waiting import wait_until

MODEL = "mobilenet_v2_1.0_224_quant"
FPS = 30.0
BOXES = (
    Box(0.02, 0.05, 0.42, 0.45),
    Box(0.55, 0.05, 0.95, 0.45),
    Box(0.02, 0.55, 0.42, 0.95),
    Box(0.55, 0.55, 0.95, 0.95),
)
PHOTOS = ("parrot.jpg", "hot_dog.jpg", "owl.jpg", "cat.bmp")


class Regions(Sink):
    """Gates on the display thread (cheap), inference on its own thread, newest crop per region."""

    def __init__(self, classifier: Classifier, specs: list[RegionSpec]) -> None:
        self.classifier = classifier
        self.specs = specs
        self.gates = {spec.name: gate_for(spec) for spec in specs}
        self.confirmers = {spec.name: Confirmer(spec.confirm, spec.threshold) for spec in specs}
        self.waiting: dict[str, np.ndarray] = {}
        self.runs = 0
        self._ready = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._work, name="regions-worker", daemon=True)

    def start(self, stop: threading.Event, lossless: bool = False) -> None:
        self._stop = stop
        self._thread.start()

    def frame(self, image: np.ndarray, frame: Frame, result: Result | None) -> None:
        height, width = frame.image.shape[:2]
        for spec in self.specs:
            gate = self.gates[spec.name]
            if gate.due(frame.mono, None, self.confirmers[spec.name].pending):
                gate.ran(frame.mono)
                left, top, right, bottom = spec.box.pixels(width, height)
                with self._ready:
                    self.waiting[spec.name] = frame.image[top:bottom, left:right]  # the newest wins
                    self._ready.notify()

    def _work(self) -> None:
        while not self._stop.is_set():
            with self._ready:
                self._ready.wait_for(lambda: bool(self.waiting) or self._stop.is_set(), timeout=0.5)
                if not self.waiting:
                    continue
                name = next(iter(self.waiting))
                crop = self.waiting.pop(name)
            best = self.classifier.classify_frame(Frame(crop, 0)).top[0]
            self.confirmers[name].observe(best.label, best.score)
            self.runs += 1

    def close(self, timeout: float = 2.0) -> None:
        with self._ready:
            self._ready.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)


def displayed_fps(video: Path, seconds: float, regions: bool) -> tuple[float, float]:
    """(frames/s the viewer received, region runs/s) over `seconds` after a warm-up."""
    from edge_app.app import build
    from edge_app.pipeline import Pipeline
    from edge_app.service.notify import Notifier
    from edge_app.settings.layers import resolve

    settings = resolve(
        {"source": str(video), "loop": True, "http": "127.0.0.1:0", "model": MODEL, "threads": 1}, None, environ={}
    )
    stop = threading.Event()
    built = build(settings, stop, Notifier(None)).pipeline
    sinks = list(built.parts.sinks)
    runner = None
    if regions:
        specs = [RegionSpec(f"r{i}", box, every=1.0) for i, box in enumerate(BOXES)]
        runner = Regions(Classifier.open(ModelOptions(model=MODEL, threads=1)), specs)
        sinks.append(runner)
    pipeline = Pipeline(replace(built.parts, sinks=sinks), built.options, stop)
    thread = threading.Thread(target=pipeline.run, daemon=True)
    thread.start()
    live_view = next(sink for sink in sinks if isinstance(sink, HttpSink))
    viewer = MjpegViewer(live_view.url)
    try:
        viewer.start()
        wait_until(lambda: len(viewer.arrivals) > 30, timeout=30.0, message="the live view never showed frames")
        runs_before = runner.runs if runner else 0
        start = time.monotonic()
        time.sleep(seconds)
        end = time.monotonic()
        runs = (runner.runs - runs_before) if runner else 0
        return viewer.fps_between(start, end), runs / (end - start)
    finally:
        viewer.close()
        stop.set()
        thread.join(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    tracks = [Track(f"r{i}", box, (Change(0.0, IMAGES / p, p),)) for i, (box, p) in enumerate(zip(BOXES, PHOTOS))]
    scene = Scene(tracks, [IMAGES / "grace_hopper.bmp"], fps=FPS, seconds=10.0, pan_px_per_s=30.0)
    with tempfile.TemporaryDirectory() as folder:
        video = scene.write(Path(folder) / "scene.avi")
        ours, base, rates = [], [], []
        for _ in range(args.rounds):
            fps, rate = displayed_fps(video, args.seconds, regions=True)
            ours.append(fps)
            rates.append(rate)
            base.append(displayed_fps(video, args.seconds, regions=False)[0])
    print(f"{MODEL}, 1 thread; 640x480 scene at {FPS:g} fps, {args.seconds:g} s per round, best of {args.rounds}")
    print(f"rounds: with regions {[round(x, 1) for x in ours]}, without {[round(x, 1) for x in base]} fps")
    print(f"region runs per second: {[round(r, 2) for r in rates]} (4 regions every 1 s: 4 expected)")
    print(_common.ratio_line("displayed fps, 4 regions every=1 vs none", max(ours), max(base), 0.97))


if __name__ == "__main__":
    main()
