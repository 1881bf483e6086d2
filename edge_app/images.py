"""Reading image files into BGR arrays, with one clear error for anything unreadable."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from edge_app.errors import EdgeAppError

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif", ".ppm", ".pgm"})


def is_image_name(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def read_bytes(path: Path) -> np.ndarray:
    """The file's bytes (uint8), for decoding and for hashing its content."""
    try:
        return np.fromfile(str(path), dtype=np.uint8)
    except OSError as exc:
        raise EdgeAppError(f"cannot read image {path} ({exc.strerror or exc})", "check the path") from None


def decode_image(data: np.ndarray, path: Path) -> np.ndarray:
    """Encoded image bytes -> HxWx3 BGR uint8; `path` names the file in the error."""
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise EdgeAppError(f"{path} is not a readable image", "use a JPEG, PNG, BMP or WebP file")
    return image


def read_image(path: Path) -> np.ndarray:
    """The image as HxWx3 BGR uint8 (OpenCV's order; callers pass order="bgr")."""
    return decode_image(read_bytes(path), path)
