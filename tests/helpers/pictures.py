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


def imdecode(data: bytes | memoryview) -> np.ndarray:
    """Encoded bytes (a JPEG the app served or wrote) as BGR pixels; undecodable bytes fail the test."""
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None, f"{len(data)} bytes do not decode as an image"
    return image
