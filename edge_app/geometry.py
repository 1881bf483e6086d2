"""Fitting an image into another size: central crop, squash or letterbox. Pure functions.

Shared by the model's preprocessing and the sources that show photos, so neither layer imports
the other. cv2 is imported on first use: settings reads RESIZE_MODES and must stay light.

Bilinear is OpenCV's INTER_LINEAR_EXACT: plain INTER_LINEAR rounds differently in the x86_64 and
aarch64 builds (1 level in about a third of the pixels), so a Pi and a laptop could label the same
photo differently. Every resize that feeds a model goes through here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

RESIZE_MODES = ("crop", "squash", "letterbox")
CENTRAL_FRACTION = 0.875  # how MobileNet was evaluated at training time


def central_crop(image: np.ndarray, fraction: float = CENTRAL_FRACTION) -> np.ndarray:
    h, w = image.shape[:2]
    ch, cw = int(round(h * fraction)), int(round(w * fraction))
    y, x = (h - ch) // 2, (w - cw) // 2
    return image[y : y + ch, x : x + cw]


def letterbox(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Fit the whole image, keeping its aspect, padded with black. Keeps the channel count
    (grey, 3 or 4 channels as picamera2's XRGB8888 gives): the RGB conversion comes after."""
    import cv2
    import numpy as np

    h, w = image.shape[:2]
    scale = min(width / w, height / h)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    out = np.zeros((height, width) + image.shape[2:], image.dtype)
    y, x = (height - nh) // 2, (width - nw) // 2
    out[y : y + nh, x : x + nw] = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_LINEAR_EXACT)
    return out


def resize(image: np.ndarray, width: int, height: int, mode: str = "crop") -> np.ndarray:
    """`crop`: the central 87.5 % then bilinear; `squash`: bilinear; `letterbox`: padded."""
    import cv2

    if mode == "letterbox":
        return letterbox(image, width, height)
    if mode == "crop":
        image = central_crop(image)
    if image.shape[0] == height and image.shape[1] == width:
        return image
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR_EXACT)
