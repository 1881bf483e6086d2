"""Events' cost in a real `edge-app run`: displayed and inference fps with `[events]` (watched
label events with snapshots, crops and clips, and the review queue) against the same run without
the section, over the same 640x480 30 fps video, in alternating rounds of one run.

The video switches between two shared photos (a hot dog, a parrot) every `--switch` seconds, and
`watch = ["hotdog"]` makes each switch an event: a row, a snapshot and a clip of pre_s + post_s.
Each round is a fresh process in real time (the file paced at its 30 fps, looped) with the live
view on loopback; its /api/status is sampled once a second after a warm-up.

    python benchmarks/bench_events_run.py [--seconds 20] [--rounds 2]

Target (issue 19): displayed fps on / off >= 0.97.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import cv2
from _common import IMAGES, MODELS, ROOT, ratio_line

from edge_app.events.store import EventStore, Query

sys.path.insert(0, str(ROOT))
from tests.helpers.pictures import imread
from tests.helpers.ports import free_port  # noqa: E402

FPS = 30
SIZE = (640, 480)
WARMUP_S = 4.0


def make_video(path: Path, seconds: float, switch: float) -> Path:
    photos = [cv2.resize(imread(IMAGES / name), SIZE) for name in ("hot_dog.jpg", "parrot.jpg")]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), FPS, SIZE)
    for i in range(round(seconds * FPS)):
        writer.write(photos[int(i / (switch * FPS)) % 2])
    writer.release()
    return path


def status(port: int) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=2) as answer:
            return json.loads(answer.read())
    except OSError:
        return None


def cpu_seconds(pid: int) -> float:
    """The process's user + system CPU time so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_run(folder: Path, source: Path, seconds: float, events: str) -> tuple[float, float, int, float]:
    """(displayed fps, inference fps, events kept, CPU cores used) of one run; `events`: "", "no clips", "clips"."""
    port = free_port()
    state = folder / f"state-{time.monotonic_ns()}"
    config = folder / "config.toml"
    text = (
        f'[model]\nmodel = "{MODELS / "mobilenet_v2_1.0_224_quant.tflite"}"\n'
        f'[source]\nsource = "{source}"\nloop = true\n'
        f'[output]\nhttp = "127.0.0.1:{port}"\n'
        f'[service]\nstate_dir = "{state}"\n'
    )
    if events:
        clips = "true" if events == "clips" else "false"
        text += f'[events]\nwatch = ["hotdog"]\nclips = {clips}\npre_s = 2\npost_s = 2\n'
    config.write_text(text)
    process = subprocess.Popen(
        [sys.executable, "-m", "edge_app", "run", "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        began = time.monotonic()
        while status(port) is None:
            if process.poll() is not None or time.monotonic() - began > 60:
                raise SystemExit(f"edge-app did not start: {process.stderr.read().decode() if process.stderr else ''}")
            time.sleep(0.2)
        time.sleep(WARMUP_S)
        video, inference = [], []
        cpu, wall = cpu_seconds(process.pid), time.monotonic()
        until = time.monotonic() + seconds
        while time.monotonic() < until:
            time.sleep(1.0)
            now = status(port)
            if now is not None:
                video.append(now["fps"]["video"])
                inference.append(now["fps"]["inference"])
        cores = (cpu_seconds(process.pid) - cpu) / (time.monotonic() - wall)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
    kept = 0
    if events:
        store = EventStore(state)
        kept = len(store.page(Query(limit=500)).events)
        store.close()
    return statistics.mean(video), statistics.mean(inference), kept, cores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds of each run")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--switch", type=float, default=3.0, help="seconds between the photos' switches")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        source = make_video(folder / "scene.avi", 4 * args.switch, args.switch)
        runs: dict[str, list[tuple[float, float, int, float]]] = {"clips": [], "no clips": [], "": []}
        for _ in range(args.rounds):
            for kind, kept in runs.items():
                kept.append(one_run(folder, source, args.seconds, kind))
    print(f"edge-app run, 640x480 {FPS} fps video, {args.rounds} rounds of {args.seconds:g} s each way")
    print(f"events kept per run with clips: {[r[2] for r in runs['clips']]} (each: snapshot, crop, a 4 s clip)")

    def mean(kind: str, index: int) -> float:
        return statistics.mean(r[index] for r in runs[kind])

    for kind in ("clips", "no clips"):
        print(ratio_line(f"displayed fps, [events] {kind} vs none", mean(kind, 0), mean("", 0), 0.97))
        print(ratio_line(f"inference fps, [events] {kind} vs none", mean(kind, 1), mean("", 1), 0.0))
        print(ratio_line(f"CPU cores used, [events] {kind} vs none", mean(kind, 3), mean("", 3), 0.0, "cores"))


if __name__ == "__main__":
    main()
