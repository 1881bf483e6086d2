"""The threads of one run and how they end: one stop event, a heartbeat per stage, and the first
failure kept (a user's mistake as one line, a bug as fatal), so that any thread can end them all."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from edge_app.errors import EdgeAppError
from edge_app.heartbeat import Heartbeat

log = logging.getLogger("edge_app.pipeline")
WAIT_S = 0.5  # the longest any thread waits before checking stop and beating its heartbeat
STAGES = ("capture", "inference", "display")  # one heartbeat each (batch: decode, lanes, output)


class Supervisor:
    def __init__(self, stop: threading.Event, heartbeats: dict[str, Heartbeat]) -> None:
        self.stop = stop
        self.heartbeats = heartbeats
        self.fatal: str | None = None
        self.user_error: EdgeAppError | None = None
        self._on_stopping: list[Callable[[], None]] = []

    def thread(self, name: str, target: Callable[[], None]) -> threading.Thread:
        """A daemon thread whose failure stops the run: a user error as one line, a bug logged."""

        def body() -> None:
            try:
                target()
            except EdgeAppError as exc:  # a user's mistake found late (e.g. a file that vanished)
                self.user_error = self.user_error or exc
                self.stop.set()
            except Exception as exc:  # a bug inside a stage: stop everything
                log.exception("%s thread failed", name)
                self.fail(f"{name}: {exc}")

        return threading.Thread(target=body, name=f"edge-app-{name}", daemon=True)

    def fail(self, reason: str) -> None:
        """Stop the run as failed; the first reason is the one reported."""
        self.fatal = self.fatal or reason
        self.stop.set()

    def heartbeat(self, stage: str) -> Heartbeat:
        return self.heartbeats[stage]

    def when_stopping(self, action: Callable[[], None]) -> None:
        """Run `action` as soon as the run stops, before threads are joined (e.g. close a slot to
        wake its readers, or tell systemd)."""
        self._on_stopping.append(action)

    def stopping(self) -> None:
        for action in self._on_stopping:
            action()
