"""Live view cost: one shared encoder (ours) vs one encoder per viewer (the usual MJPEG server).

Feeds 640x480 frames made from a real photo at 30 fps, with 3 MJPEG viewers, and prints
per-viewer fps, encoder CPU per frame, and process CPU for ours vs the baseline, measured
in one run on this machine. Also the CPU ours spends with nobody watching.

    python benchmarks/bench_live_view.py [--seconds 5] [--viewers 3]
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from edge_app.address import parse_address  # noqa: E402
from edge_app.frames import Frame  # noqa: E402
from edge_app.web.sink import HttpSink  # noqa: E402
from tests.helpers.live_view import FakeStatus, MjpegViewer  # noqa: E402
from tests.helpers.pictures import imread  # noqa: E402
from tests.helpers.shared_data import IMAGES  # noqa: E402
from tests.helpers.waiting import wait_until  # noqa: E402

PHOTO = IMAGES / "parrot.jpg"
FPS = 30.0


def camera_like_frames(n: int) -> list[np.ndarray]:
    """The photo at 640x480 with sensor noise and a moving box: every frame differs, like a camera's."""
    base = cv2.resize(imread(PHOTO), (640, 480), interpolation=cv2.INTER_AREA)
    rng = np.random.default_rng(0)
    frames = []
    for i in range(n):
        frame = cv2.add(base, rng.integers(0, 6, (480, 640, 3), dtype=np.uint8))
        x = 20 * i % 560
        cv2.rectangle(frame, (x, 20), (x + 80, 60), (0, 220, 0), -1)
        cv2.putText(frame, f"frame {i}", (10, 460), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (255, 255, 255), 2)
        frames.append(frame)
    return frames


def feed(sinks: list[HttpSink], frames: list[np.ndarray], stop: threading.Event) -> None:
    due, i = time.monotonic(), 0
    while not stop.is_set():
        for sink in sinks:
            picture = frames[i % len(frames)]
            sink.frame(picture, Frame(picture, i), None)
        i += 1
        due += 1.0 / FPS
        stop.wait(max(0.0, due - time.monotonic()))


def measure(sinks_for_viewers: list[HttpSink], frames: list[np.ndarray], seconds: float) -> dict[str, float]:
    """Run one viewer per entry of `sinks_for_viewers` (the same sink repeated = shared encoder)."""
    sinks = list(dict.fromkeys(sinks_for_viewers))
    for sink in sinks:
        sink.start(threading.Event())
    stop = threading.Event()
    feeder = threading.Thread(target=feed, args=(sinks, frames, stop), daemon=True)
    feeder.start()
    viewers = [MjpegViewer(sink.url) for sink in sinks_for_viewers]
    try:
        for viewer in viewers:
            viewer.start()
        wait_until(lambda: all(len(v.arrivals) > 5 for v in viewers), timeout=10.0)
        before: list[dict[str, Any]] = [sink.hub.stats() for sink in sinks]
        start, cpu = time.monotonic(), time.process_time()
        time.sleep(seconds)
        end, cpu = time.monotonic(), time.process_time() - cpu
        after: list[dict[str, Any]] = [sink.hub.stats() for sink in sinks]
    finally:
        for viewer in viewers:
            viewer.close()
        stop.set()
        feeder.join(2.0)
        for sink in sinks:
            sink.close()
    encoded = sum(int(a["encoded"]) - int(b["encoded"]) for a, b in zip(after, before))
    return {
        "viewer_fps": min(viewer.fps_between(start, end) for viewer in viewers),
        "encodes_per_s": encoded / (end - start),
        "encode_cpu_ms": float(np.mean([float(a["encode_cpu_ms"] or 0) for a in after])),
        "jpeg_kb": float(np.mean([int(a["jpeg_bytes"] or 0) for a in after])) / 1024,
        "cpu_percent": 100 * cpu / (end - start),
    }


def idle_cpu(frames: list[np.ndarray], seconds: float) -> float:
    """Process CPU % while frames flow in and nobody watches."""
    sink = HttpSink(parse_address("0"), FakeStatus())
    sink.start(threading.Event())
    stop = threading.Event()
    feeder = threading.Thread(target=feed, args=([sink], frames, stop), daemon=True)
    feeder.start()
    start, cpu = time.monotonic(), time.process_time()
    time.sleep(seconds)
    result = 100 * (time.process_time() - cpu) / (time.monotonic() - start)
    stop.set()
    feeder.join(2.0)
    assert sink.hub.stats()["encoded"] == 0
    sink.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--viewers", type=int, default=3)
    args = parser.parse_args()
    frames = camera_like_frames(30)

    shared = HttpSink(parse_address("0"), FakeStatus())
    ours = measure([shared] * args.viewers, frames, args.seconds)
    baseline = measure([HttpSink(parse_address("0"), FakeStatus()) for _ in range(args.viewers)], frames, args.seconds)
    idle = idle_cpu(frames, min(args.seconds, 3.0))

    print(f"{args.viewers} viewers, 640x480 at {FPS:.0f} fps, {ours['jpeg_kb']:.0f} KB per JPEG (quality 80)")
    print(f"{'':22}{'ours':>10}{'baseline':>10}{'ratio':>8}")
    for key, label in (
        ("viewer_fps", "slowest viewer fps"),
        ("encodes_per_s", "encodes / s"),
        ("cpu_percent", "process CPU %"),
    ):
        print(f"{label:22}{ours[key]:10.1f}{baseline[key]:10.1f}{ours[key] / baseline[key]:8.2f}")
    print(f"encoder CPU per frame: {ours['encode_cpu_ms']:.2f} ms (baseline {baseline['encode_cpu_ms']:.2f} ms)")
    print(f"nobody watching: {idle:.1f} % CPU, 0 encodes")


if __name__ == "__main__":
    main()
