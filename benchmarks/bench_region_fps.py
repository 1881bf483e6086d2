"""Issue 18's "the live video's frame rate never waits for regions", through the real app: displayed
fps with 4 regions `every = 1` against the same run with no regions, in alternating rounds of one
run. Target: ratio >= 0.97.

Each round is `edge-app run` as a child process (config-file `[regions.NAME]` tables, a generated
640x480 scene at 30 fps whose background pans, paced in real time and looped, MobileNetV2
quantized on 1 thread, a fresh state dir), with a browser-like viewer on /stream.mjpg counting the
frames it receives over `--seconds` after a warm-up. The whole frame is classified in both runs
(the pipeline's inference thread, newest frame only); with regions, the runtime also hands each
region's crop to the one inference worker once a second, which shares the whole frame's model.
The regions' runs per second come from /api/status "regions" (4 expected).

    python benchmarks/bench_region_fps.py [--seconds 15] [--rounds 2]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from _app_run import MODEL, THREADS, AppRun
from _common import IMAGES, ratio_line

from edge_app.regions.spec import Box, RegionSpec
from tests.helpers.live_view import MjpegViewer
from tests.helpers.region_scenes import Change, Scene, Track
from tests.helpers.waiting import wait_until

FPS = 30.0
WARMUP_S = 3.0  # after the viewer's first frames
BOXES = (
    Box(0.02, 0.05, 0.42, 0.45),
    Box(0.55, 0.05, 0.95, 0.45),
    Box(0.02, 0.55, 0.42, 0.95),
    Box(0.55, 0.55, 0.95, 0.95),
)
PHOTOS = ("parrot.jpg", "hot_dog.jpg", "sunflower.bmp", "cat.bmp")
REGIONS = [RegionSpec(f"r{i}", box, every=1.0) for i, box in enumerate(BOXES)]


def displayed_fps(folder: Path, video: Path, regions: list[RegionSpec], seconds: float) -> tuple[float, float]:
    """(frames/s the viewer received, region runs/s) over `seconds` after a warm-up."""
    with AppRun(folder, video, regions) as run:
        viewer = MjpegViewer(run.base)
        viewer.start()
        try:
            wait_until(lambda: len(viewer.arrivals) > 30, timeout=30.0, message="the live view never showed frames")
            time.sleep(WARMUP_S)
            runs, start = sum(run.region_runs().values()), time.monotonic()
            time.sleep(seconds)
            end = time.monotonic()
            runs = sum(run.region_runs().values()) - runs
        finally:
            viewer.close()
    return viewer.fps_between(start, end), runs / (end - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="measured seconds of each run")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    tracks = [Track(f"r{i}", box, (Change(0.0, IMAGES / p, p),)) for i, (box, p) in enumerate(zip(BOXES, PHOTOS))]
    scene = Scene(tracks, [IMAGES / "grace_hopper.bmp"], fps=FPS, seconds=10.0, pan_px_per_s=30.0)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        video = scene.write(folder / "scene.avi")
        ours, base, rates = [], [], []
        for _ in range(args.rounds):  # alternating: regions, none, regions, none, ...
            fps, rate = displayed_fps(folder, video, REGIONS, args.seconds)
            ours.append(fps)
            rates.append(rate)
            base.append(displayed_fps(folder, video, [], args.seconds)[0])
    print(
        f"edge-app run, {MODEL} on {THREADS} thread; panning 640x480 video at {FPS:g} fps in real time; "
        f"{args.rounds} rounds of {args.seconds:g} s each way"
    )
    print(f"rounds: with regions {[round(x, 2) for x in ours]}, without {[round(x, 2) for x in base]} fps")
    print(f"region runs per second: {[round(r, 2) for r in rates]} (4 regions every 1 s: 4 expected)")
    print(
        ratio_line("displayed fps, 4 regions every=1 vs none", statistics.median(ours), statistics.median(base), 0.97)
    )


if __name__ == "__main__":
    main()
