"""Recording cost: our writer (PyAV, H.264 in fragmented MP4, synced per fragment) vs the
previous one (OpenCV's VideoWriter, MPEG-4 Part 2 in a plain MP4), same camera-like frames.

Prints CPU per frame (process CPU time, so the encoder's own threads count) and bytes per
frame for each, measured in one run on this machine.

    python benchmarks/bench_record.py [--frames 300] [--size 640x480]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_live_view import camera_like_frames  # noqa: E402

from edge_app.sinks.video_file import VideoFile  # noqa: E402


def ours(path: Path, frames: list, size: tuple[int, int]) -> None:
    video = VideoFile(path, size, 30.0)
    for frame in frames:
        video.write(frame)
    video.close()


def baseline(path: Path, frames: list, size: tuple[int, int]) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), 30.0, size)
    for frame in frames:
        writer.write(frame)
    writer.release()


def measure(write, path: Path, frames: list, size: tuple[int, int]) -> tuple[float, float]:
    start = time.process_time()
    write(path, frames, size)
    return (time.process_time() - start) / len(frames) * 1000, path.stat().st_size / len(frames) / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--size", default="640x480")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    size = (width, height)
    frames = [cv2.resize(f, size) for f in camera_like_frames(args.frames)]
    with tempfile.TemporaryDirectory() as folder:
        results = {
            name: measure(write, Path(folder) / f"{name}.mp4", frames, size)
            for name, write in (("ours", ours), ("baseline", baseline))
        }
    for name, (cpu_ms, kb) in results.items():
        print(f"{name:8}  {cpu_ms:6.2f} ms CPU/frame  {kb:6.1f} kB/frame")
    print(
        f"ratio     {results['ours'][0] / results['baseline'][0]:.2f} x CPU, "
        f"{results['ours'][1] / results['baseline'][1]:.2f} x bytes"
    )


if __name__ == "__main__":
    main()
