"""What the user asked for as input, once decided: a camera index or a source text, plus how to
capture it. Cheap to import (no numpy, cv2 or picamera2): settings parses --resolution here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from edge_app.errors import EdgeAppError

Backend = Literal["auto", "picamera2", "opencv"]
BACKENDS = ("auto", "picamera2", "opencv")
DEFAULT_RESOLUTION = (640, 480)
MAX_SIDE = 8192
_RESOLUTION = re.compile(r"\s*(\d{1,5})\s*[xX×*]\s*(\d{1,5})\s*")

Target = int | str  # a camera index, or "synthetic", a folder, a URL, /dev/videoN or a video file


def parse_resolution(text: str) -> tuple[int, int]:
    """ "640x480" -> (640, 480)."""
    match = _RESOLUTION.fullmatch(str(text))
    if not match:
        raise EdgeAppError(f"bad resolution {text!r}", "write WIDTHxHEIGHT, e.g. 640x480")
    width, height = int(match.group(1)), int(match.group(2))
    if not (16 <= width <= MAX_SIDE and 16 <= height <= MAX_SIDE):
        raise EdgeAppError(
            f"resolution {width}x{height} is out of range", f"use 16 to {MAX_SIDE} pixels a side, e.g. 640x480"
        )
    return width, height


FRAME_COPIES = (
    20  # frames the live pipeline may hold at once (slots, overlay, JPEGs, recorder): 3.9 GB seen at 8192x8192
)
WARN_MEGAPIXELS = 8.3  # 3840x2160: beyond it a Pi's memory goes on frames


def memory_warning(size: tuple[int, int] | None) -> str | None:
    """A line for a resolution whose frames take more memory than a Pi has to spare, or None."""
    if size is None or size[0] * size[1] <= WARN_MEGAPIXELS * 1_000_000:
        return None
    frame_mb = size[0] * size[1] * 3 / 1e6
    return (
        f"resolution {format_resolution(size)} is {size[0] * size[1] / 1e6:.0f} megapixels: each frame takes"
        f" {frame_mb:.0f} MB and the live pipeline holds up to {FRAME_COPIES} at once (about"
        f" {frame_mb * FRAME_COPIES / 1000:.1f} GB), more than a Raspberry Pi has; the model sees 224x224, so 1280x720"
        " or 640x480 classify as well"
    )


def format_resolution(size: tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]}"


@dataclass(frozen=True)
class SourceSpec:
    """Where frames come from. `target` is a camera index or a source text: never both."""

    target: Target = 0
    backend: Backend = "auto"
    resolution: tuple[int, int] | None = None  # cameras, synthetic, slideshow; files keep their own
    fps: float | None = None  # cameras: requested rate; synthetic: frame rate; slideshow: photos per second

    @property
    def camera(self) -> int | None:
        return self.target if isinstance(self.target, int) else None

    @property
    def size(self) -> tuple[int, int]:
        return self.resolution or DEFAULT_RESOLUTION
