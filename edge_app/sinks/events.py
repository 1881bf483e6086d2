"""`--events PATH|-`: one JSON line per inference result.

Written synchronously from the inference thread (a line is tiny), so events are complete
and in order; a file is appended to, never truncated, so no earlier run is lost.
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from typing import TextIO

from edge_app.errors import EdgeAppError
from edge_app.frames import Result
from edge_app.sinks.base import Sink


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
            raise EdgeAppError(f"cannot write events to {path} ({exc.strerror})", "choose a writable path, or - for stdout") from None
        self._owns_stream = True

    def result(self, result: Result) -> None:
        line = json.dumps(result.as_event(), separators=(",", ":"))
        with self._lock:
            if self._stream is None:
                return
            try:
                self._stream.write(line + "\n")
                if not self._owns_stream:
                    self._stream.flush()
            except BrokenPipeError:  # `edge-app run --events - | head`: the reader left
                self._stream = None
                return
            self.written += 1

    def close(self, timeout: float = 2.0) -> None:
        with self._lock:
            if self._stream is not None:
                try:
                    self._stream.flush()
                except (BrokenPipeError, ValueError):
                    pass
                if self._owns_stream:
                    self._stream.close()
            self._stream = None
