"""Gates: every N seconds, on motion inside the box, while a change is pending; or every frame."""

from __future__ import annotations

import numpy as np

from edge_app.regions.gates import EveryFrame, Scheduled, gate_for
from edge_app.regions.motion import MotionMap
from edge_app.regions.spec import Box, RegionSpec

BOX = Box(0.0, 0.0, 0.5, 0.5)


def motion(where: Box | None) -> MotionMap:
    mask = np.zeros((40, 40), dtype=bool)
    if where is not None:
        left, top, right, bottom = where.pixels(40, 40)
        mask[top:bottom, left:right] = True
    return MotionMap(mask)


def started(gate: Scheduled, at: float = 0.0) -> Scheduled:
    assert gate.due(at, None, False)  # a region that never ran is due, so it gets a state
    gate.ran(at)
    return gate


def test_every_zero_and_no_motion_means_every_frame() -> None:
    gate = gate_for(RegionSpec("a", BOX))
    assert isinstance(gate, EveryFrame) and not gate.needs_motion
    assert all(gate.due(t, None, False) for t in (0.0, 0.0, 0.01))


def test_every_n_seconds_from_the_last_run() -> None:
    gate = started(Scheduled(BOX, every=2.0))
    assert not gate.needs_motion
    assert not gate.due(1.99, motion(BOX), False)  # motion does not count without on_motion
    assert gate.due(2.0, None, False)
    gate.ran(2.5)
    assert not gate.due(4.0, None, False) and gate.due(4.5, None, False)


def test_on_motion_inside_the_box_only() -> None:
    gate = gate_for(RegionSpec("a", BOX, on_motion=True))
    assert isinstance(gate, Scheduled) and gate.needs_motion
    started(gate)
    assert not gate.due(100.0, None, False)
    assert not gate.due(100.0, motion(None), False)
    assert not gate.due(100.0, motion(Box(0.6, 0.6, 1.0, 1.0)), False)
    assert gate.due(100.0, motion(Box(0.1, 0.1, 0.2, 0.2)), False)


def test_pending_confirmation_forces_a_run() -> None:
    gate = started(Scheduled(BOX, every=30.0, on_motion=True))
    assert not gate.due(1.0, motion(None), False)
    assert gate.due(1.0, motion(None), True)


def test_motion_and_interval_together() -> None:
    gate = started(Scheduled(BOX, every=10.0, on_motion=True))
    assert gate.due(3.0, motion(BOX), False)
    gate.ran(3.0)
    assert not gate.due(12.0, None, False)
    assert gate.due(13.0, None, False)


def test_a_clock_that_went_back_counts_as_due() -> None:
    gate = started(Scheduled(BOX, every=5.0), at=50.0)
    assert gate.due(1.0, None, False)
