"""Generated scenes for the region tests and benchmarks: a background that stays still or pans
and switches, with regions whose content is a photo replaced on each region's own schedule.
Every frame's true class per region is known (`Scene.truth`), so verified states can be checked
frame by frame. Photos are read where they lie (../shared); only the video is written.

Used without pytest's conftest by benchmarks/ (which put tests/ on sys.path).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from edge_app.regions.confirm import Confirmer
from edge_app.regions.gates import gate_for
from edge_app.regions.motion import MotionDetector
from edge_app.regions.spec import Box, RegionSpec
from tests.helpers.pictures import imread

Classify = Callable[[str, np.ndarray], tuple[str, float]]  # (region, its crop) -> top label and score

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
            self._photos[key] = cv2.resize(imread(path), size, interpolation=cv2.INTER_AREA)
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

    def timed(self) -> Iterator[tuple[float, np.ndarray]]:
        """(seconds, image) per frame, the time a batch run over the file gives it."""
        for index, image in enumerate(self.images()):
            yield index / self.fps, image

    def write(self, path: Path) -> Path:
        """An MJPEG .avi at `fps` (high quality: the photos stay recognisable)."""
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), self.fps, self.size)
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


@dataclass
class Watched:
    """What the regions did over a run: their verified states after each frame, and when each ran
    and when its verified state changed (its first state included)."""

    states: list[dict[str, str | None]]
    runs: dict[str, list[float]]
    changes: dict[str, list[float]]


def watch(frames: Iterable[tuple[float, np.ndarray]], specs: Sequence[RegionSpec], classify: Classify) -> Watched:
    """The region modules as a camera's runtime chains them: motion per frame (when a gate needs
    it), each region's gate, its crop classified when due, its confirmation."""
    gates = {spec.name: gate_for(spec) for spec in specs}
    confirmers = {spec.name: Confirmer(spec.confirm, spec.threshold) for spec in specs}
    motion = MotionDetector() if any(gate.needs_motion for gate in gates.values()) else None
    watched = Watched([], {spec.name: [] for spec in specs}, {spec.name: [] for spec in specs})
    for t, image in frames:
        moved = motion.update(image, t) if motion is not None else None
        height, width = image.shape[:2]
        for spec in specs:
            gate, confirmer = gates[spec.name], confirmers[spec.name]
            if not gate.due(t, moved, confirmer.pending):
                continue
            gate.ran(t)
            watched.runs[spec.name].append(t)
            left, top, right, bottom = spec.box.pixels(width, height)
            label, score = classify(spec.name, image[top:bottom, left:right])
            if confirmer.observe(label, score) is not None:
                watched.changes[spec.name].append(t)
        watched.states.append({name: confirmer.state for name, confirmer in confirmers.items()})
    return watched


@dataclass(frozen=True)
class Verdict:
    """One region's run against the truth: the times its state was wrong outside `window_s` after a
    true change, its verified changes against one per true class change (plus the first state), the
    runs more than `idle_s` after any change of its photo, and the share of frames it ran on."""

    wrong: list[float]
    changes: int
    expected_changes: int
    idle_runs: list[float]
    share_run: float


def judge(
    scene: Scene, watched: Watched, track: Track, words: dict[str, str], window_s: float, idle_s: float
) -> Verdict:
    """`words`: each true class in the model's words (its label for that class)."""
    true_changes = [c for c in track.true_changes() if c < scene.seconds]
    wrong = []
    for index, states in enumerate(watched.states):
        t = index / scene.fps
        if t <= window_s or any(0 <= t - c <= window_s for c in true_changes):
            continue
        if states[track.name] != words[track.change_at(t).label]:
            wrong.append(t)
    photo_changes = [change.at for change in track.changes]
    runs = watched.runs[track.name]
    idle = [t for t in runs if not any(0 <= t - c <= idle_s for c in photo_changes)]
    return Verdict(
        wrong, len(watched.changes[track.name]), 1 + len(true_changes), idle, len(runs) / len(watched.states)
    )
