"""`edge-app run` as a child process, the way a user or systemd starts it: its JSON-lines stdout and
its stderr drained as they come, so a test can wait on either without a full pipe blocking it."""

from __future__ import annotations

import json
import os
import signal
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


class AppProcess(subprocess.Popen[str]):
    """`edge-app run` as a child; `log` drains its stderr from the start."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None) -> None:
        super().__init__(
            [sys.executable, "-m", "edge_app", "run", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
        )
        assert self.stdout is not None and self.stderr is not None  # both are PIPEs
        self.log = LineReader(self.stderr)
        self.log.start()


def start(args: list[str], env: dict[str, str] | None = None) -> tuple[AppProcess, LineReader]:
    """The process, and a reader of its JSON-lines stdout; `process.log` drains its stderr."""
    process = AppProcess(args, env)
    assert process.stdout is not None
    reader = LineReader(process.stdout, json.loads)
    reader.start()
    return process, reader


def stop_cleanly(process: AppProcess) -> None:
    """SIGTERM, as systemd stops it: the run must exit 0 within 30 s and log no traceback."""
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 0, process.log.text()
    assert "Traceback" not in log_of(process)


def log_of(process: AppProcess) -> str:
    """Everything the process wrote to stderr (all of it, once it has exited)."""
    if process.poll() is not None:
        process.log.join(5)
    return process.log.text()


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
