"""`--events PATH|-`: one JSON line per inference result, and one per verified state change.

A result line is the result with the `"camera"` and `"region"` it is for (the whole frame is
region "frame"); a region's verified change is a line of its own:
`{"type": "state", "camera", "region", "state", "previous", "score", "frame", "ts"}`.

Written synchronously from the inference thread (a line is tiny), so events are complete
and in order; a file is appended to, never truncated, so no earlier run is lost. A reader
that stops reading stdout may block a write: close() then gives up on the flush after its
timeout rather than hang the shutdown.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from edge_app.errors import EdgeAppError
from edge_app.frames import Result
from edge_app.sinks.base import Sink

if TYPE_CHECKING:
    from edge_app.bus import Classified, StateChanged
    from edge_app.settings import Settings
    from edge_app.sinks.registry import SinkContext

log = logging.getLogger("edge_app.events")


def classified_line(event: Classified) -> dict[str, Any]:
    return {"camera": event.camera, "region": event.region, **event.result.as_event()}


def state_line(event: StateChanged) -> dict[str, Any]:
    return {
        "type": "state",
        "camera": event.camera,
        "region": event.region,
        "state": event.state,
        "previous": event.previous,
        "score": round(event.score, 6),
        "frame": event.frame.seq,
        "ts": round(event.ts, 6),
    }


class EventsSink(Sink):
    wants_frames = False

    def __init__(self, target: str) -> None:
        self.target = target
        self._stream: TextIO | None = None
        self._owns_stream = False
        self._lock = threading.Lock()
        self.written = 0

    def start(self, stop: threading.Event, lossless: bool = False) -> None:
        if self.target == "-":
            self._stream = sys.stdout
            return
        path = Path(self.target).expanduser()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._stream = path.open("a", encoding="utf-8", buffering=1)
        except OSError as exc:
            raise EdgeAppError(
                f"cannot write events to {path} ({exc.strerror})", "choose a writable path, or - for stdout"
            ) from None
        self._owns_stream = True

    @property
    def name(self) -> str:
        return "stdout" if self.target == "-" else str(Path(self.target).expanduser())

    def result(self, result: Result) -> None:
        self._write(result.as_event())

    def handle(self, event: object) -> None:
        """A bus subscriber: a line per region result and per verified state change."""
        from edge_app.bus import Classified, StateChanged

        if isinstance(event, Classified):
            self._write(classified_line(event))
        elif isinstance(event, StateChanged):
            self._write(state_line(event))

    def _write(self, value: dict[str, Any]) -> None:
        line = json.dumps(value, separators=(",", ":"))
        with self._lock:
            stream = self._stream
            if stream is None:
                return
            try:
                stream.write(line + "\n")
                if not self._owns_stream:
                    stream.flush()
            except BrokenPipeError:  # `edge-app run --events - | head`: the reader left
                self._release()
                return
            except OSError as exc:  # e.g. ENOSPC: stop writing, and stop the run with one line
                self._release()
                raise EdgeAppError(
                    f"cannot write events to {self.name} ({exc.strerror})", "free some space or choose another path"
                ) from None
            self.written += 1

    def close(self, timeout: float = 2.0) -> None:
        if not self._lock.acquire(timeout=max(0.0, timeout)):  # a write is blocked (a reader stopped reading)
            log.warning("events to %s: a write is still blocked; not flushing", self.name)
            self._stream = None  # results arriving later are dropped
            return
        try:
            stream = self._stream
            if stream is not None:
                try:
                    stream.flush()
                except (OSError, ValueError):  # reader gone, disk full, or already closed
                    pass
            self._release()
        finally:
            self._lock.release()

    def _release(self) -> None:
        """Forget the stream, closing it if it is our file (a failed flush must not escape)."""
        stream, self._stream = self._stream, None
        if stream is not None and self._owns_stream:
            try:
                stream.close()
            except OSError:
                pass


def from_settings(settings: Settings, context: SinkContext) -> EventsSink:
    assert settings.events is not None
    return EventsSink(settings.events)
