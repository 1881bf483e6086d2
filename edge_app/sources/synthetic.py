"""A camera stand-in for demos, tests and benchmarks: deterministic frames that change every frame.

Frame i shows its number as a strip of black/white cells along the top edge (`read_code`
decodes it, even after JPEG compression) and as text in the bottom-right corner, away from the
label panel the overlay draws top-left, plus a moving bar. With image paths,
the frames show those photos in turn (letterboxed), with a thin progress bar at the bottom so
the photo stays classifiable. Everything static is drawn once at open(); a frame costs one
copy and a few small fills, so hundreds of 640x480 frames per second are cheap.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from edge_app.errors import EdgeAppError
from edge_app.frames import ChannelOrder
from edge_app.geometry import letterbox
from edge_app.images import read_image
from edge_app.sources.base import SourceBase
from edge_app.sources.spec import DEFAULT_RESOLUTION, SourceSpec

DEFAULT_FPS = 30.0

CODE_BITS = 24
WHITE = (255, 255, 255)


def code_cell(width: int) -> int:
    """Side of one code cell in pixels (24 cells span ~3/8 of the width)."""
    return max(2, width // 64)


def stamp_code(image: np.ndarray, number: int) -> None:
    """Write `number` (mod 2**24) into the top-left strip, most significant bit first, in place."""
    cell = code_cell(image.shape[1])
    strip = image[:cell, : CODE_BITS * cell]
    strip[:] = 0
    for bit in range(CODE_BITS):
        if (number >> (CODE_BITS - 1 - bit)) & 1:
            strip[:, bit * cell : (bit + 1) * cell] = 255


def read_code(image: np.ndarray) -> int | None:
    """The frame number a SyntheticSource stamped into `image` (BGR or RGB), None if too small."""
    cell = code_cell(image.shape[1])
    if image.shape[1] < CODE_BITS * cell or image.shape[0] < cell:
        return None
    centres = image[cell // 2, cell // 2 : CODE_BITS * cell : cell]
    bits = centres.reshape(CODE_BITS, -1).mean(axis=1) >= 128
    return int("".join("1" if b else "0" for b in bits), 2)


def pattern(width: int, height: int) -> np.ndarray:
    """A smooth colour gradient: every channel differs, so a channel swap is visible."""
    x = np.linspace(0, 255, width, dtype=np.float32)[None, :]
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None]
    image = np.empty((height, width, 3), np.uint8)
    image[..., 0] = np.broadcast_to(x, (height, width))
    image[..., 1] = np.broadcast_to(y, (height, width))
    image[..., 2] = 96
    return image


class SyntheticSource(SourceBase):
    """Frames 0, 1, 2, ... at `size`; endless unless `count` is given. Paced by the pipeline."""

    live = False
    order: ChannelOrder = "bgr"

    def __init__(
        self,
        size: tuple[int, int] = DEFAULT_RESOLUTION,
        fps: float = DEFAULT_FPS,
        count: int | None = None,
        images: Sequence[str | os.PathLike[str]] = (),
        seconds_per_image: float = 2.0,
    ) -> None:
        width, height = size
        if width < 16 or height < 16:
            raise EdgeAppError(f"synthetic frames of {width}x{height} are too small", "use at least 16x16")
        if fps <= 0:
            raise EdgeAppError(f"synthetic fps must be positive, not {fps:g}", "use e.g. --fps 30")
        self.size = (int(width), int(height))
        self._fps = float(fps)
        self.count = count
        self.images = [Path(p) for p in images]
        self.hold = max(1, round(seconds_per_image * fps))  # frames per photo
        self.name = f"synthetic:{width}x{height}" + (f"+{len(self.images)} images" if self.images else "")
        self._backgrounds: list[np.ndarray] = []
        self._next = 0

    def open(self) -> None:
        width, height = self.size
        if self.images:
            self._backgrounds = [letterbox(read_image(path), width, height) for path in self.images]
        else:
            self._backgrounds = [pattern(width, height)]
        self._next = 0

    def frame(self, i: int) -> np.ndarray:
        """Frame number i; the same i always gives the same pixels."""
        if not self._backgrounds:
            self.open()
        width, height = self.size
        photo = (i // self.hold) % len(self._backgrounds)
        image = self._backgrounds[photo].copy()
        if self.images:  # a thin progress bar: the photo itself stays untouched
            bar = max(2, height // 60)
            image[height - bar :, : width * ((i % self.hold) + 1) // self.hold] = WHITE
        else:
            bar = max(2, width // 20)
            x = (i * max(1, width // 60)) % width
            image[:, x : x + bar] = WHITE
        self._label(image, i)
        return image

    def _label(self, image: np.ndarray, i: int) -> None:
        stamp_code(image, i)
        height, width = image.shape[:2]
        scale = height / 480
        thickness = max(1, round(2 * scale))
        text = str(i)
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
        pad = max(2, th // 4)
        bottom = height - (max(2, height // 60) if self.images else 0)  # above a photo's progress bar
        top, left = bottom - th - base - 2 * pad, width - tw - 2 * pad
        image[top:bottom, left:] = 0
        cv2.putText(
            image, text, (left + pad, top + pad + th), cv2.FONT_HERSHEY_SIMPLEX, scale, WHITE, thickness, cv2.LINE_AA
        )

    def read(self) -> np.ndarray | None:
        if self.count is not None and self._next >= self.count:
            return None
        image = self.frame(self._next)
        self._next += 1
        return image

    def close(self) -> None:
        self._backgrounds = []


def from_spec(spec: SourceSpec, target: str) -> SyntheticSource:
    """`--source synthetic`: numbered test frames at --resolution and --fps."""
    return SyntheticSource(spec.size, spec.fps or DEFAULT_FPS)
