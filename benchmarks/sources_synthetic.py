"""Synthetic source speed at 640x480: ours (static parts drawn once) vs drawing every frame from scratch.

    python benchmarks/sources_synthetic.py [--frames 600] [--size 640x480]

Prints frames per second of both, measured in one run, and their ratio. The brief's target:
hundreds of frames per second at 640x480, so the source never limits a pipeline test.
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np

from edge_app.sources.spec import parse_resolution
from edge_app.sources.synthetic import SyntheticSource


def naive_frame(i: int, width: int, height: int) -> np.ndarray:
    """The obvious way: build the gradient, the bar and the text anew for every frame."""
    x = np.linspace(0, 255, width)[None, :].repeat(height, 0)
    y = np.linspace(0, 255, height)[:, None].repeat(width, 1)
    image = np.dstack([x, y, np.full((height, width), 96.0)]).astype(np.uint8)
    bar = max(2, width // 20)
    left = (i * max(1, width // 60)) % width
    cv2.rectangle(image, (left, 0), (left + bar, height), (255, 255, 255), -1)
    cv2.putText(image, str(i), (10, 40), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (255, 255, 255), 2, cv2.LINE_AA)
    return image


def rate(make, frames: int) -> float:
    make(0)  # warm up
    started = time.perf_counter()
    for i in range(frames):
        make(i)
    return frames / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=600)
    parser.add_argument("--size", default="640x480")
    args = parser.parse_args()
    width, height = parse_resolution(args.size)
    source = SyntheticSource((width, height))
    source.open()
    ours = rate(source.frame, args.frames)
    baseline = rate(lambda i: naive_frame(i, width, height), args.frames)
    print(
        f"synthetic {width}x{height}: ours {ours:.0f} fps, from-scratch baseline {baseline:.0f} fps, ratio "
        f"{ours / baseline:.1f}x"
    )


if __name__ == "__main__":
    main()
