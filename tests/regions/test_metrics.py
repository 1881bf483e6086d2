"""Prometheus per region: runs, state changes, the verified state and inference time, labelled
by camera and region, and clean under `promtool check metrics`."""

from __future__ import annotations

import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

from edge_app.bus import Classified, StateChanged
from edge_app.frames import Frame, Label, Result
from edge_app.metrics import Metrics
from edge_app.regions.board import RegionBoard
from edge_app.regions.spec import Box, RegionSpec
from tests.helpers.fleet import promtool_check
from tests.helpers.pipeline_fakes import fake_state

DOOR = RegionSpec("door", Box(0.1, 0.1, 0.5, 0.9), on_motion=True)
BINS = RegionSpec("bins", Box(0.6, 0.5, 0.9, 0.9), every=30)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def classified(region: RegionSpec, seq: int, ms: float) -> Classified:
    frame = Frame(np.zeros((2, 2, 3), np.uint8), seq)
    return Classified("cam", region.name, frame, Result(seq, 1.0, 1.0, (Label(0, "open", 0.9),), ms), region.box)


def test_per_region_families() -> None:
    metrics = Metrics(fake_state())
    board = RegionBoard()
    board.set_regions("cam", (DOOR, BINS))
    metrics.watch_regions(board)
    for seq in range(3):
        board.handle(classified(DOOR, seq, 3.0))
    board.handle(classified(BINS, 9, 30.0))
    frame = Frame(np.zeros((2, 2, 3), np.uint8), 2)
    board.handle(StateChanged("cam", "door", "open", None, 0.9, frame, DOOR.box, 5.0))
    text = metrics.render()[0].decode()
    found = samples(text)
    door, bins = (("camera", "cam"), ("region", "door")), (("camera", "cam"), ("region", "bins"))
    assert found[("edge_app_region_runs_total", door)] == 3
    assert found[("edge_app_region_runs_total", bins)] == 1
    assert found[("edge_app_region_state_changes_total", door)] == 1
    assert found[("edge_app_region_state_changes_total", bins)] == 0
    assert found[("edge_app_region_state", tuple(sorted((*door, ("state", "open")))))] == 1
    assert not [key for key in found if key[0] == "edge_app_region_state" and ("region", "bins") in key[1]]
    assert found[("edge_app_region_inference_seconds_count", door)] == 3
    assert found[("edge_app_region_inference_seconds_sum", door)] == pytest.approx(0.009)
    assert found[("edge_app_region_inference_seconds_bucket", tuple(sorted((*door, ("le", "0.005")))))] == 3
    assert found[("edge_app_region_inference_seconds_bucket", tuple(sorted((*bins, ("le", "0.02")))))] == 0
    assert promtool_check(text).returncode == 0
