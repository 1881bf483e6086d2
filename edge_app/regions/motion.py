"""Cheap motion: where a small grey copy of the frame differs from a running-average background.

What must not count as motion, and how it is kept out:
- sensor noise: the image is shrunk by averaging (which divides the noise) and blurred, and a pixel
  moves only when it differs by more than a noise floor *and* by several times that pixel's own
  running noise level, so a flickering area raises its own bar;
- slow light changes (clouds, dusk, auto-exposure): each frame is first scaled to the background's
  overall brightness (a robust median gain), and the background follows the scene with a time
  constant in seconds, so what changes slower than that is absorbed rather than seen.
What stops counting: a change that stays (a door left open, a new photo) is absorbed quickly
(`settle_s`) once its pixels stop changing from frame to frame, so its box goes quiet within a
second rather than waking its classifier for as long as the slow background takes.
Time comes from the frame (`mono`), so batch runs over a file give the same maps every time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from edge_app.regions.spec import Box

EXPLAINED = 4  # a brightness gain is the cause when it leaves at most a quarter of the moving pixels


@dataclass(frozen=True)
class MotionOptions:
    """`width`: the small image's width in pixels (its height keeps the frame's aspect).
    `floor`: grey levels (0-255) below which a difference is never motion.
    `noise_factor`: how many times a pixel's own running noise a difference must exceed.
    `background_s` / `noise_s`: time constants of the background and of the noise estimate.
    `settle_s`: the background's time constant where a pixel differs from it but has stopped changing.
    `min_fraction` / `min_pixels`: how much of a box must move for the box to be moving.
    `margin`: the rim of a box (small-image pixels) left out of its motion."""

    width: int = 96
    blur: int = 3
    floor: float = 12.0
    noise_factor: float = 4.0
    background_s: float = 2.0
    noise_s: float = 10.0
    settle_s: float = 0.3
    min_fraction: float = 0.01
    min_pixels: int = 2
    margin: int = 2  # pixels of a box's rim left out: the blur and the shrinking smear motion across edges
    max_gain: float = 4.0


@dataclass(frozen=True)
class MotionMap:
    """Which pixels of the small image moved in one frame."""

    mask: np.ndarray  # bool, height x width of the small image
    min_fraction: float = MotionOptions.min_fraction
    min_pixels: int = MotionOptions.min_pixels
    margin: int = MotionOptions.margin

    def _cells(self, box: Box) -> np.ndarray:
        """The box's pixels of the map, less a rim of `margin` where the box is big enough: shrinking
        and blurring smear motion just outside a box across its edge."""
        height, width = self.mask.shape
        left, top, right, bottom = box.pixels(width, height)
        m = self.margin
        if right - left > 2 * m + 1:
            left, right = left + m, right - m
        if bottom - top > 2 * m + 1:
            top, bottom = top + m, bottom - m
        return self.mask[top:bottom, left:right]

    def fraction(self, box: Box) -> float:
        """The share of the box's pixels that moved, 0 to 1."""
        cells = self._cells(box)
        return float(cells.mean()) if cells.size else 0.0

    def moving(self, box: Box) -> bool:
        cells = self._cells(box)
        count = int(cells.sum())
        return count >= self.min_pixels and count >= self.min_fraction * cells.size

    @property
    def any(self) -> bool:
        return bool(self.mask.any())


class MotionDetector:
    """One per camera; `update` with every frame (or every frame it looks at) in capture order."""

    def __init__(self, options: MotionOptions = MotionOptions()) -> None:
        self.options = options
        self._background: np.ndarray | None = None
        self._noise: np.ndarray | None = None
        self._previous: np.ndarray | None = None
        self._mono = 0.0
        self._shape: tuple[int, ...] = ()

    def reset(self) -> None:
        self._background = None
        self._noise = None
        self._previous = None

    def update(self, image: np.ndarray, mono: float) -> MotionMap:
        """The motion in `image` (height x width x channels, any channel order, or grey) captured at
        `mono` seconds, against what came before; the first frame (or one of a new size) is still."""
        grey = self._small_grey(image)
        background, noise, previous = self._background, self._noise, self._previous
        if (
            background is None
            or noise is None
            or previous is None
            or image.shape[:2] != self._shape
            or mono < self._mono
        ):
            self._shape = image.shape[:2]
            self._background = grey
            self._noise = np.zeros_like(grey)
            self._previous = grey
            self._mono = mono
            return self._map(np.zeros(grey.shape, dtype=bool))
        bar = np.maximum(self.options.floor, self.options.noise_factor * noise)
        difference, mask = self._compare(grey, background, bar)
        dt = mono - self._mono
        self._mono = mono
        self._previous = grey
        settled = mask & (np.abs(grey - previous) <= bar)  # different from the background, not changing now
        rate = np.where(settled, _rate(dt, self.options.settle_s), _rate(dt, self.options.background_s))
        self._background = background + rate.astype(np.float32) * (grey - background)
        # the noise estimate learns only where nothing moved, so an object does not raise its own bar
        quiet = np.where(mask, noise, difference)
        self._noise = noise + _rate(dt, self.options.noise_s) * (quiet - noise)
        return self._map(mask)

    def _compare(self, grey: np.ndarray, background: np.ndarray, bar: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The difference and its moving pixels, with the frame scaled to the background's brightness
        when that explains most of the change (an exposure step), not merely some of it (a large
        object or a pan moves the median too, and scaling for it would wake the still parts)."""
        plain = np.abs(grey - background)
        plain_mask = plain > bar
        level = float(np.median(grey))
        gain = float(np.median(background)) / level if level > 1.0 else 1.0
        gain = min(max(gain, 1.0 / self.options.max_gain), self.options.max_gain)
        if not plain_mask.any() or gain == 1.0:
            return plain, plain_mask
        scaled = np.abs(grey * gain - background)
        scaled_mask = scaled > bar
        if EXPLAINED * int(scaled_mask.sum()) <= int(plain_mask.sum()):
            return scaled, scaled_mask
        return plain, plain_mask

    def _map(self, mask: np.ndarray) -> MotionMap:
        return MotionMap(mask, self.options.min_fraction, self.options.min_pixels, self.options.margin)

    def _small_grey(self, image: np.ndarray) -> np.ndarray:
        """Equal channel weights, so the channel order does not matter."""
        height, width = image.shape[:2]
        small_width = max(1, min(width, self.options.width))
        small_height = max(1, round(height * small_width / width))
        factor = min(width // small_width, height // small_height)
        if factor >= 2:  # a whole-number area shrink first: OpenCV's fast path, 2.5x less than one fractional step
            height, width = height - height % factor, width - width % factor
            image = cv2.resize(
                image[:height, :width], (width // factor, height // factor), interpolation=cv2.INTER_AREA
            )
        small = cv2.resize(image, (small_width, small_height), interpolation=cv2.INTER_AREA)
        grey: np.ndarray = small.astype(np.float32)
        if grey.ndim == 3:
            grey = grey.mean(axis=2, dtype=np.float32)
        if self.options.blur > 1:
            grey = cv2.blur(grey, (self.options.blur, self.options.blur))
        return grey


def _rate(dt: float, time_constant: float) -> float:
    """How far a running average moves towards the new value after `dt` seconds."""
    if time_constant <= 0:
        return 1.0
    return 1.0 - math.exp(-max(dt, 0.0) / time_constant)
