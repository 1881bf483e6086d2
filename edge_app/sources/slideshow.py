"""A folder of photos as a slideshow at one constant video size, played once (`--loop` starts it over).

Each photo is held for `period` seconds, but frames keep coming at `rate` (10/s by default):
the live view then shows a photo's own label a moment after the photo appears, instead of
the previous photo's label for the whole period. The frames that hold one photo carry the same
`still` number, so the pipeline classifies each photo once, not every frame that shows it.
Each pass lists the folder anew (photos added meanwhile are picked up when it starts over);
unreadable files are skipped and counted.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from edge_app.errors import EdgeAppError
from edge_app.frames import ChannelOrder
from edge_app.geometry import letterbox
from edge_app.images import is_image_name, read_image
from edge_app.sources.base import SourceBase, SourceError
from edge_app.sources.spec import DEFAULT_RESOLUTION, SourceSpec

DISPLAY_RATE = 10.0


def natural_key(path: Path) -> list[object]:
    """img2.jpg before img10.jpg."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


def list_images(folder: Path) -> list[Path]:
    """Image files directly in `folder`, in natural order; hidden files (macOS ._*) left out."""
    try:
        entries = list(folder.iterdir())
    except OSError as exc:
        raise EdgeAppError(
            f"cannot list folder {folder} ({exc.strerror or exc})", "check the path and its permissions"
        ) from None
    files = [p for p in entries if is_image_name(p) and not p.name.startswith(".") and p.is_file()]
    return sorted(files, key=natural_key)


def photos_in(folder: Path) -> list[Path]:
    """The folder's images; EdgeAppError when the folder is missing or has none (a user mistake)."""
    if not folder.is_dir():
        raise EdgeAppError(f"folder {folder} does not exist", "check the path")
    files = list_images(folder)
    if not files:
        raise EdgeAppError(f"no images in {folder}", "put JPEG, PNG or BMP files there")
    return files


class SlideshowSource(SourceBase):
    """The photos in `folder`, each letterboxed to `size` and shown for `period` s; read() gives
    None after the last one (the end of the input, as for a video file)."""

    live = False
    order: ChannelOrder = "bgr"

    def __init__(
        self,
        folder: str | os.PathLike[str],
        period: float = 2.0,
        size: tuple[int, int] = DEFAULT_RESOLUTION,
        rate: float = DISPLAY_RATE,
    ) -> None:
        if period <= 0:
            raise EdgeAppError(
                f"slideshow period must be positive, not {period:g} s", "use e.g. --fps 0.5 for 2 s per photo"
            )
        self.folder = Path(folder)
        self.size = size
        self._fps = max(rate, 1.0 / period)
        self.hold = max(1, round(period * self._fps))  # frames per photo
        self.name = f"images:{self.folder.name or self.folder}"
        self.skipped = 0  # unreadable files met so far
        self.still: int = -1  # the number of the photo read() returns: one more for every photo shown, over every pass
        self._files: list[Path] = []
        self._index = 0  # next file to try
        self._current: np.ndarray | None = None
        self._shown = 0  # frames of the current photo so far
        self._open = False

    def open(self) -> None:
        """Start a pass over the folder as it is now."""
        self._files = photos_in(self.folder)
        self._index, self._shown = 0, 0
        self._current = self._load_next()
        if self._current is None:
            raise EdgeAppError(
                f"none of the {len(self._files)} images in {self.folder} can be read", "use JPEG, PNG or BMP files"
            )
        self._open = True

    def _load_next(self) -> np.ndarray | None:
        """The next readable photo of this pass, letterboxed; None at the end of the pass."""
        width, height = self.size
        while self._index < len(self._files):
            path = self._files[self._index]
            self._index += 1
            try:
                photo = letterbox(read_image(path), width, height)
            except EdgeAppError:
                self.skipped += 1
                continue
            self.still += 1
            return photo
        return None

    def read(self) -> np.ndarray | None:
        if not self._open:
            raise SourceError(f"{self.name} is not open")
        if self._current is not None and self._shown >= self.hold:
            self._shown = 0
            self._current = self._load_next()
        if self._current is None:
            return None
        self._shown += 1
        return self._current  # no stage writes to source frames: the display draws on a copy

    def close(self) -> None:
        self._current = None
        self._open = False


def from_spec(spec: SourceSpec, target: str) -> SlideshowSource:
    """`--source FOLDER`: its photos, --fps photos a second (default one every 2 s). An empty
    folder is a user mistake found now, before the model loads."""
    folder = Path(target).expanduser()
    photos_in(folder)
    return SlideshowSource(folder, period=1.0 / spec.fps if spec.fps else 2.0, size=spec.size)
