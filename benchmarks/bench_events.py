"""Events' cost on a running camera: displayed and inference fps with events, snapshots and clips
on, against off, over the same video in one run; and the time from a state change to its row and
snapshot on disk.

The runtime of issue 18 (`core`) is not on this branch yet, so the script plays its part as the
app will: a display loop paced at the video's 30 fps publishes every frame (FrameShown) on a Bus,
an inference thread classifies the newest frame's region crop with the real model
(../shared mobilenet_v2) and publishes each result (Classified), and the region's verified state
flips every `--change-every` seconds (StateChanged). "on" subscribes the events keeper (SQLite,
snapshots, review queue, the clip encoder for every frame); "off" does not. Phases alternate
on/off/on/off... so both see the same machine.

    python benchmarks/bench_events.py [--seconds 10] [--rounds 2]

Targets (issue 19): fps on / off >= 0.97; state change -> row + snapshot on disk < 1 s.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from _common import MODELS, video

from edge_app.bus import Bus, Classified, FrameShown, StateChanged
from edge_app.events.keeper import EventKeeper, Kept
from edge_app.events.store import EventStore
from edge_app.frames import Frame
from edge_app.latest import Latest
from edge_app.model.classifier import Classifier
from edge_app.model.options import ModelOptions
from edge_app.regions.spec import Box
from edge_app.settings.sections.events import EventsConfig

FPS = 30.0
DOOR = Box(0.1, 0.1, 0.6, 0.7)


@dataclass
class Phase:
    displayed: float = 0.0  # frames, then frames per second
    inferred: float = 0.0
    latencies: list[float] = field(default_factory=list)


def frames_of(path: Path, count: int) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    frames: list[np.ndarray] = []
    while len(frames) < count:
        ok, image = capture.read()
        if not ok:
            break
        frames.append(image)
    capture.release()
    return frames


def play(
    frames: list[np.ndarray], classifier: Classifier, seconds: float, keeper: EventKeeper | None, change_every: float
) -> Phase:
    phase = Phase()
    bus = Bus()
    published: dict[float, float] = {}  # a change's ts -> when it was published (monotonic)
    if keeper is not None:
        keeper.attach(bus)

        def kept(event: Kept) -> None:
            started = published.get(event.row.ts)
            if started is not None and keeper.store.file(event.row.snapshot or "").is_file():
                phase.latencies.append(time.monotonic() - started)

        keeper.announce = kept
    bus.start()
    stop = threading.Event()
    newest: Latest[Frame] = Latest()

    def infer() -> None:
        state, last_flip, version = "closed", time.monotonic(), 0
        while not stop.is_set():
            got = newest.get(version, timeout=0.5)
            if got is None:
                continue
            version, frame = got
            left, top, right, bottom = DOOR.pixels(frame.image.shape[1], frame.image.shape[0])
            result = classifier.classify_frame(
                Frame(frame.image[top:bottom, left:right], frame.seq, frame.ts, frame.mono)
            )
            phase.inferred += 1
            bus.publish(Classified("cam", "door", frame, result, DOOR, state, False))
            if time.monotonic() - last_flip >= change_every:
                previous, state, last_flip = state, ("open" if state == "closed" else "closed"), time.monotonic()
                ts = time.time()
                published[ts] = time.monotonic()
                bus.publish(StateChanged("cam", "door", state, previous, 0.95, frame, DOOR, ts))

    worker = threading.Thread(target=infer, daemon=True)
    worker.start()
    start = due = time.monotonic()
    seq = 0
    while time.monotonic() - start < seconds:
        image = frames[seq % len(frames)]
        frame = Frame(image, seq)
        newest.put(frame)
        if bus.wanted(FrameShown):
            bus.publish(FrameShown("cam", image, frame, None))
        phase.displayed += 1
        seq += 1
        due += 1 / FPS
        stop.wait(max(0.0, due - time.monotonic()))
    elapsed = time.monotonic() - start
    stop.set()
    worker.join(5)
    bus.close(5)
    if keeper is not None:
        for buffer in keeper._clips.values():
            buffer.close(5)
        keeper._clips.clear()
    phase.displayed /= elapsed
    phase.inferred /= elapsed
    return phase


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--change-every", type=float, default=2.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        frames = frames_of(video(Path(folder) / "scene.avi", 300), 300)
        classifier = Classifier.open(ModelOptions(model=str(MODELS / "mobilenet_v2_1.0_224_quant.tflite"), threads=1))
        config = EventsConfig.from_table({"clips": True, "pre_s": 2, "post_s": 2})
        on: list[Phase] = []
        off: list[Phase] = []
        for round_ in range(args.rounds):
            store = EventStore(Path(folder) / f"state-{round_}")
            keeper = EventKeeper(config, store, lambda camera, region: None)
            keeper.start()
            on.append(play(frames, classifier, args.seconds, keeper, args.change_every))
            keeper.close(5)
            off.append(play(frames, classifier, args.seconds, None, args.change_every))
        shown_on = statistics.mean(p.displayed for p in on)
        shown_off = statistics.mean(p.displayed for p in off)
        inferred_on = statistics.mean(p.inferred for p in on)
        inferred_off = statistics.mean(p.inferred for p in off)
        latencies = [s for p in on for s in p.latencies]
        ratio = shown_on / shown_off
        print(f"displayed fps   on {shown_on:6.2f}  off {shown_off:6.2f}  ratio {ratio:5.3f}  (target >= 0.97)")
        print(
            f"inference fps   on {inferred_on:6.2f}  off {inferred_off:6.2f}  ratio {inferred_on / inferred_off:5.3f}"
        )
        if latencies:
            worst = max(latencies)
            print(
                f"change -> row + snapshot on disk: median {statistics.median(latencies) * 1000:.0f} ms, "
                f"worst {worst * 1000:.0f} ms over {len(latencies)} changes; "
                f"worst / 1 s target = {worst:.3f} (target < 1)"
            )


if __name__ == "__main__":
    main()
