"""Turning frames the right way up: for a camera mounted sideways, upside down, or as a mirror.

`rotate` turns the picture clockwise; `flip` then mirrors it left-right, so "flip" always means
the left-right mirror of what you see. cv2 is imported on first use, so the validation here
is cheap to import for settings and the CLI.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from edge_app.errors import EdgeAppError

if TYPE_CHECKING:  # numpy only for the hints: settings imports ROTATIONS and must stay light
    import numpy as np

ROTATIONS = (0, 90, 180, 270)


def check_rotation(value: object) -> int:
    """0, 90, 180 or 270 (also -90 -> 270, 360 -> 0); anything else is a user mistake."""
    text = str(value).strip()
    if isinstance(value, bool) or not re.fullmatch(r"[+-]?\d{1,4}", text) or int(text) % 90:
        raise EdgeAppError(f"cannot rotate by {value!r} degrees", "use 0, 90, 180 or 270")
    return int(text) % 360


def orient(image: np.ndarray, rotate: int = 0, flip: bool = False) -> np.ndarray:
    """The image rotated clockwise by `rotate` degrees, then mirrored left-right if `flip`.

    Returns `image` itself when there is nothing to do; otherwise a new array.
    """
    import cv2

    if rotate not in ROTATIONS:
        rotate = check_rotation(rotate)
    if rotate:
        codes = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
        image = cv2.rotate(image, codes[rotate])
    if flip:  # mirror a rotated copy in place: a second fresh 1 MB array costs ~10x more than the flip
        image = cv2.flip(image, 1, dst=image) if rotate else cv2.flip(image, 1)
    return image
