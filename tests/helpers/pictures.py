"""Pictures a test wrote, the shared data holds or a source produces, read where the test knows they are."""

from __future__ import annotations

import os

import cv2
import numpy as np

from edge_app.sources.base import Source


def imread(path: str | os.PathLike[str], flags: int = cv2.IMREAD_COLOR) -> np.ndarray:
    """cv2.imread, but a missing or unreadable file fails the test naming it instead of giving None."""
    image = cv2.imread(os.fspath(path), flags)
    assert image is not None, f"cannot read {path}"
    return image


def read_frame(source: Source) -> np.ndarray:
    """The source's next picture, where the test knows there is one (not the end of a file)."""
    image = source.read()
    assert image is not None, f"{source.name} ended"
    return image
