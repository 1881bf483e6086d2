"""Generated scenes for the region tests and benchmarks: a background that stays still or pans
and switches, with regions whose content is a photo replaced on each region's own schedule.
Every frame's true class per region is known (`Scene.truth`), so verified states can be checked
frame by frame. Photos are read where they lie (../shared); only the video is written.

Used without pytest's conftest by benchmarks/ (which put tests/ on sys.path).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from edge_app.regions.spec import Box

SIZE = (640, 480)


@dataclass(frozen=True)
class Change:
    at: float  # seconds from the start
    photo: Path
    label: str  # the photo's true class


@dataclass(frozen=True)
class Track:
    """A region and what it shows: from each change's time on, its photo (resized to the box)."""

    name: str
    box: Box
    changes: tuple[Change, ...]

    def change_at(self, t: float) -> Change:
        current = self.changes[0]
        for change in self.changes:
            if change.at <= t:
                current = change
        return current

    def true_changes(self) -> list[float]:
        """When the class (not only the photo) changes."""
        return [b.at for a, b in zip(self.changes, self.changes[1:]) if a.label != b.label]


@dataclass
class Scene:
    tracks: Sequence[Track]
    backgrounds: Sequence[Path]  # shown one after the other, `switch_s` each
    fps: float = 10.0
    seconds: float = 60.0
    pan_px_per_s: float = 0.0  # 0: the background is still
    switch_s: float = 0.0  # 0: one background all along
    size: tuple[int, int] = SIZE
    _photos: dict[tuple[Path, tuple[int, int]], np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def frames(self) -> int:
        return round(self.fps * self.seconds)

    def truth(self, index: int) -> dict[str, str]:
        t = index / self.fps
        return {track.name: track.change_at(t).label for track in self.tracks}

    def _photo(self, path: Path, size: tuple[int, int]) -> np.ndarray:
        key = (path, size)
        if key not in self._photos:
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            assert image is not None, path
            self._photos[key] = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        return self._photos[key]

    def _background(self, t: float) -> np.ndarray:
        width, height = self.size
        which = int(t // self.switch_s) % len(self.backgrounds) if self.switch_s > 0 else 0
        wide = self._photo(self.backgrounds[which], (width * 2, height))
        offset = int(self.pan_px_per_s * t) % width
        return wide[:, offset : offset + width]

    def image(self, index: int) -> np.ndarray:
        t = index / self.fps
        width, height = self.size
        image = self._background(t).copy()
        for track in self.tracks:
            left, top, right, bottom = track.box.pixels(width, height)
            image[top:bottom, left:right] = self._photo(track.change_at(t).photo, (right - left, bottom - top))
        return image

    def images(self) -> Iterator[np.ndarray]:
        for index in range(self.frames):
            yield self.image(index)

    def write(self, path: Path) -> Path:
        """An MJPEG .avi at `fps` (high quality: the photos stay recognisable)."""
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), self.fps, self.size)
        assert writer.isOpened(), f"cannot write {path}"
        writer.set(cv2.VIDEOWRITER_PROP_QUALITY, 95)
        try:
            for image in self.images():
                writer.write(image)
        finally:
            writer.release()
        return path


def schedule(photos: Sequence[tuple[Path, str]], every_s: Sequence[float]) -> tuple[Change, ...]:
    """Changes at the cumulative times of `every_s`, cycling through `photos`."""
    changes, t = [], 0.0
    for i, step in enumerate(every_s):
        photo, label = photos[i % len(photos)]
        changes.append(Change(t, photo, label))
        t += step
    return tuple(changes)
