"""The /api/status JSON and /healthz answers, as pure functions."""

from __future__ import annotations

import json

import numpy as np

from edge_app.web.status import health, status_json


def test_status_json_adds_stream_stats_and_stays_parseable() -> None:
    status = {
        "state": "running",
        "inference_ms": np.float32(4.5),
        "fps": {"video": float("nan"), "inference": float("inf")},
        "labels": ({"index": np.int64(89), "label": "macaw", "score": 0.99},),
        "odd": object,
    }
    parsed = json.loads(status_json(status, {"viewers": 2, "encoded": 10, "viewer_drops": 1}))
    assert parsed["stream"] == {"viewers": 2, "encoded": 10, "viewer_drops": 1}
    assert parsed["inference_ms"] == 4.5
    assert parsed["fps"] == {"video": None, "inference": None}  # browsers cannot parse NaN
    assert parsed["labels"] == [{"index": 89, "label": "macaw", "score": 0.99}]
    assert parsed["odd"] == "<class 'object'>"


def test_health() -> None:
    assert health({}) == (True, "ok")
    assert health({"healthy": True, "state": "no signal"}) == (True, "ok")
    assert health({"healthy": False, "state": "no signal"}) == (False, "no signal")
    assert health({"healthy": False, "state": "no signal", "reason": "camera unplugged 30 s ago"}) == (
        False,
        "camera unplugged 30 s ago",
    )
    assert health({"healthy": False}) == (False, "unhealthy")
