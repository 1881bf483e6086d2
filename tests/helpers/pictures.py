"""Pictures a test wrote or the shared data holds, read as OpenCV reads them."""

from __future__ import annotations

import os

import cv2
import numpy as np


def imread(path: str | os.PathLike[str], flags: int = cv2.IMREAD_COLOR) -> np.ndarray:
    """cv2.imread, but a missing or unreadable file fails the test naming it instead of giving None."""
    image = cv2.imread(os.fspath(path), flags)
    assert image is not None, f"cannot read {path}"
    return image
