"""Reading image files into BGR arrays, with one clear error for anything unreadable."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from edge_app.errors import EdgeAppError

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif", ".ppm", ".pgm"})


def is_image_name(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def walk(folder: Path) -> Iterator[Path]:
    """Every file under `folder`, sorted, following linked folders; hidden files and folders
    (.git, .DS_Store, macOS ._ files) are not data and are passed over."""
    for root, dirs, files in os.walk(folder, followlinks=True):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        yield from (Path(root) / name for name in sorted(files) if not name.startswith("."))


def read_image(path: Path) -> np.ndarray:
    """The image as HxWx3 BGR uint8 (OpenCV's order; callers pass order="bgr")."""
    try:
        data = np.fromfile(str(path), dtype=np.uint8)
    except OSError as exc:
        raise EdgeAppError(f"cannot read image {path} ({exc.strerror or exc})", "check the path") from None
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise EdgeAppError(f"{path} is not a readable image", "use a JPEG, PNG, BMP or WebP file")
    return image
