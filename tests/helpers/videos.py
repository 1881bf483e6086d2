"""Videos made from the shared ImageNet photos, for pipeline tests and benchmarks."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np

from tests.helpers.pictures import imread
from tests.helpers.shared_data import IMAGENET100


def imagenet_photos(limit: int | None = None) -> list[Path]:
    with (IMAGENET100 / "labels.csv").open() as f:
        rows = list(csv.DictReader(f))
    return [IMAGENET100 / row["file"] for row in rows[:limit]]


def photo_frame(photo: np.ndarray, step: int, size: tuple[int, int]) -> np.ndarray:
    """The photo framed at `size`, drifting a little with `step`, so consecutive frames differ."""
    h, w = photo.shape[:2]
    margin_x, margin_y = w // 12, h // 12
    x = (step * 7) % (margin_x + 1)
    y = (step * 5) % (margin_y + 1)
    crop = photo[y : h - margin_y + y, x : w - margin_x + x]
    return cv2.resize(crop, size, interpolation=cv2.INTER_AREA)


def make_video(
    path: Path, frames: int, size: tuple[int, int] = (640, 480), fps: float = 30.0, per_photo: int = 18
) -> Path:
    """An MJPG .avi of `frames` frames cycling through the ImageNet photos."""
    photos = [imread(p) for p in imagenet_photos()]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, size)
    try:
        for i in range(frames):
            writer.write(photo_frame(photos[(i // per_photo) % len(photos)], i % per_photo, size))
    finally:
        writer.release()
    return path
