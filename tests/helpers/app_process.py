"""`edge-app run` as a child process, the way a user or systemd starts it: its JSON-lines stdout and
its stderr drained as they come, so a test can wait on either without a full pipe blocking it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from typing import IO, Any

import pytest

from tests.helpers.live_view import get_status

FAST_MODEL = "mobilenet_v1_0.25_128_quant"


class LineReader(threading.Thread):
    """Drains one of a process's pipes as lines come, so it never blocks on a full pipe:
    stdout parsed as JSON lines (`events`), stderr kept as text."""

    def __init__(self, stream: IO[str], parse: Callable[[str], Any] = str) -> None:
        super().__init__(daemon=True)
        self.stream = stream
        self.parse = parse
        self.events: list[Any] = []

    def run(self) -> None:
        for line in self.stream:
            self.events.append(self.parse(line))

    def count(self) -> int:
        return len(self.events)

    def text(self) -> str:
        return "".join(self.events)


def start(args: list[str], env: dict[str, str] | None = None) -> tuple[subprocess.Popen, LineReader]:
    """The process, and a reader of its JSON-lines stdout; `process.log` drains its stderr."""
    process = subprocess.Popen(
        [sys.executable, "-m", "edge_app", "run", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    reader = LineReader(process.stdout, json.loads)  # type: ignore[arg-type]
    reader.start()
    process.log = LineReader(process.stderr)  # type: ignore[attr-defined]
    process.log.start()  # type: ignore[attr-defined]
    return process, reader


def log_of(process: subprocess.Popen) -> str:
    """Everything the process wrote to stderr (all of it, once it has exited)."""
    if process.poll() is not None:
        process.log.join(5)  # type: ignore[attr-defined]
    return process.log.text()  # type: ignore[attr-defined]


def status_when_up(base: str) -> dict:
    """/api/status, or {} while the server is not listening yet."""
    try:
        return get_status(base)
    except OSError:
        return {}


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen]]:
    started: list[subprocess.Popen] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(5)
