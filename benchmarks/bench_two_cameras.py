"""What sharing the one inference worker costs a camera: one camera against two, in one run.

Each camera is a thread delivering frames at --fps (paced, like a live camera) to its region
runner, whose only region is the whole frame; every camera's crops go to the same
InferenceWorker running the real model, and results come back on the bus. Rounds alternate
(one camera, two cameras, ...) over the same frames. Printed, per setup: results a second per
camera, the worker's total, crops replaced before they ran (the newest crop wins), and the
latency from capture to result on the bus; then the ratios two/one. When the worker has time to
spare, two cameras each keep their rate (ratio near 1); once it is saturated they share it
(near 0.5 each), and the total stays what one worker can do (near 1) with no queue building up.

    python benchmarks/bench_two_cameras.py [--seconds 10] [--fps 15] [--rounds 2]
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from dataclasses import dataclass, field

import _common  # noqa: F401  (paths, offline models)
import numpy as np
from _common import IMAGES

from edge_app.bus import Bus, Classified
from edge_app.frames import Frame
from edge_app.model.classifier import Classifier
from edge_app.model.options import ModelOptions
from edge_app.runtime.regions import OneModel, RegionRunner, whole_frame
from edge_app.runtime.worker import InferenceWorker
from tests.helpers.pictures import imread

MODEL = "mobilenet_v2_1.0_224_quant"


@dataclass
class Heard:
    results: dict[str, int] = field(default_factory=dict)
    latency_ms: list[float] = field(default_factory=list)

    def classified(self, event: object) -> None:
        assert isinstance(event, Classified)
        self.results[event.camera] = self.results.get(event.camera, 0) + 1
        self.latency_ms.append((time.monotonic() - event.frame.mono) * 1000.0)


def camera(
    name: str, runner: RegionRunner, image: np.ndarray, fps: float, seconds: float, stop: threading.Event
) -> None:
    start = time.monotonic()
    seq = 0
    while not stop.is_set():
        due = start + seq / fps
        if due - start >= seconds:
            return
        stop.wait(max(0.0, due - time.monotonic()))
        now = time.monotonic()
        runner.frame(Frame(image, seq, ts=time.time(), mono=now))
        seq += 1


def round_of(cameras: int, model: Classifier, fps: float, seconds: float) -> dict[str, float]:
    stop = threading.Event()
    bus, worker, heard = Bus(), InferenceWorker(stop), Heard()
    bus.subscribe("bench", heard.classified, (Classified,))
    bus.start()
    worker.start()
    image = imread(IMAGES / "grace_hopper.bmp")
    names = [f"cam{i}" for i in range(cameras)]
    threads = [
        threading.Thread(
            target=camera,
            args=(name, RegionRunner(name, [whole_frame()], OneModel(model), worker, bus), image, fps, seconds, stop),
        )
        for name in names
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    worker.wait_idle(2.0)
    worker.close(2.0)
    bus.close(2.0)
    stats = worker.stats()
    per_camera = [heard.results.get(name, 0) / seconds for name in names]
    return {
        "per_camera": statistics.mean(per_camera),
        "total": sum(per_camera),
        "replaced": stats["replaced"] / seconds,
        "latency": statistics.median(heard.latency_ms) if heard.latency_ms else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--fps", type=float, default=15.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    model = Classifier.open(ModelOptions(model=MODEL, threads=1))
    model.classify(imread(IMAGES / "grace_hopper.bmp"), "bgr")  # warm up
    runs: dict[int, list[dict[str, float]]] = {1: [], 2: []}
    for _ in range(args.rounds):
        for cameras in (1, 2):
            runs[cameras].append(round_of(cameras, model, args.fps, args.seconds))
    mean = {n: {key: statistics.mean(r[key] for r in rs) for key in rs[0]} for n, rs in runs.items()}
    print(f"{args.fps:g} fps per camera, {args.seconds:g} s x {args.rounds} rounds, {MODEL} on 1 thread")
    for n in (1, 2):
        m = mean[n]
        print(
            f"  {n} camera{'s' if n > 1 else ' '}: {m['per_camera']:6.1f} results/s per camera, worker total "
            f"{m['total']:6.1f}/s, replaced {m['replaced']:5.1f}/s, median capture->result {m['latency']:6.1f} ms"
        )
    one, two = mean[1], mean[2]
    print(f"ratio two/one: per camera {two['per_camera'] / one['per_camera']:.2f}, ", end="")
    print(f"worker total {two['total'] / one['total']:.2f}, latency {two['latency'] / one['latency']:.2f}")


if __name__ == "__main__":
    main()
