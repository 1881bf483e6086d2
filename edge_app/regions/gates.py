"""When a region is classified: on every frame, or when its interval has passed, motion is seen
inside its box, or a state change waits for confirmation. Pure: time is the frame's, passed in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from edge_app.regions.motion import MotionMap
from edge_app.regions.spec import Box, RegionSpec


class Gate(Protocol):
    @property
    def needs_motion(self) -> bool:
        """Whether the runtime must compute a motion map for this gate."""
        ...

    @property
    def needs_result(self) -> bool:
        """Whether `due` reads the last result (a change pending), so batch mode must wait for it."""
        ...

    def due(self, now: float, motion: MotionMap | None, pending: bool) -> bool: ...

    def ran(self, now: float) -> None: ...


class EveryFrame:
    """The whole frame's behaviour, and a region's with `every = 0` and `on_motion = false`."""

    needs_motion = False
    needs_result = False

    def due(self, now: float, motion: MotionMap | None, pending: bool) -> bool:
        return True

    def ran(self, now: float) -> None:
        pass


@dataclass
class Scheduled:
    """Runs when `every` seconds (if > 0) have passed since the last run, when `on_motion` and the
    box moves, or while a change is pending. A region that has never run is due, so it gets a state;
    a clock that went backwards (another file in batch mode) counts as the interval passed."""

    box: Box
    every: float = 0.0
    on_motion: bool = False
    last: float | None = None

    @property
    def needs_motion(self) -> bool:
        return self.on_motion

    needs_result = True

    def due(self, now: float, motion: MotionMap | None, pending: bool) -> bool:
        if pending or self.last is None:
            return True
        if self.every > 0 and (now - self.last >= self.every or now < self.last):
            return True
        return self.on_motion and motion is not None and motion.moving(self.box)

    def ran(self, now: float) -> None:
        self.last = now


def gate_for(spec: RegionSpec) -> Gate:
    if spec.every_frame:
        return EveryFrame()
    return Scheduled(spec.box, spec.every, spec.on_motion)
