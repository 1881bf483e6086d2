"""The retained state message, and when to send it: on a top-1 change, and as a heartbeat."""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING

from edge_app.frames import Result

if TYPE_CHECKING:
    from edge_app.regions.board import RegionView


def state_payload(result: Result, fps: float | None = None, inference_fps: float | None = None) -> bytes:
    """`{"label", "score", "index", "top", "inference_ms", "ts", "frame", "fps", "inference_fps"}`;
    label, score and index are null when nothing scores above the threshold."""
    best = result.top[0] if result.top else None
    value = {
        "label": best.label if best else None,
        "score": round(best.score, 4) if best else None,
        "index": best.index if best else None,
        "top": [label.as_dict() for label in result.top],
        "inference_ms": round(result.inference_ms, 2),
        "ts": round(result.ts, 3),
        "frame": result.seq,
        "fps": round(fps, 2) if fps is not None else None,
        "inference_fps": round(inference_fps, 2) if inference_fps is not None else None,
    }
    return json.dumps(value, separators=(",", ":"), allow_nan=False).encode()


def region_payload(view: RegionView) -> bytes:
    """A region's retained state: `{"state", "score", "top", "since", "camera", "region", "restored"}`;
    the score and top-k are of the result that confirmed the state (or the newest one)."""
    value = {
        "state": view.state,
        "score": None if view.score is None else round(view.score, 4),
        "top": [{"label": label, "score": round(score, 4)} for label, score in view.top],
        "since": None if view.since is None else round(view.since, 3),
        "camera": view.camera,
        "region": view.name,
        "restored": view.restored,
    }
    return json.dumps(value, separators=(",", ":"), allow_nan=False).encode()


def top_index(result: Result) -> int | None:
    """What a change is measured on: the top-1 class (None: nothing above the threshold)."""
    return result.top[0].index if result.top else None


class ChangeGate:
    """Says which results are news: the first one, and each whose top-1 differs from the last.

    Results arrive already smoothed and thresholded, so a flicker that smoothing hides is no
    change here either.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: int | None = None
        self._seen = False

    def changed(self, result: Result) -> bool:
        index = top_index(result)
        with self._lock:
            news = not self._seen or index != self._last
            self._last, self._seen = index, True
        return news
