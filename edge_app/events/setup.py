"""Events' part of assembling a run: the store in the state dir, the keeper subscribed to the bus,
and the routes for the live view. With `[events] enabled = false` nothing of it exists."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edge_app.bus import Bus
from edge_app.endpoints import Route
from edge_app.errors import EdgeAppError
from edge_app.events.config import EventsConfig
from edge_app.events.keeper import Announce, EventKeeper
from edge_app.events.store import EventStore
from edge_app.events.teaching import TeacherFor


@dataclass(frozen=True)
class Events:
    keeper: EventKeeper
    routes: tuple[Route, ...]

    def start(self) -> None:
        self.keeper.start()

    def close(self, timeout: float = 2.0) -> None:
        self.keeper.close(timeout)


def setup(
    config: EventsConfig, state_dir: Path, bus: Bus, teacher_for: TeacherFor, announce: Announce | None = None
) -> Events | None:
    """Subscribes to `bus` (before it starts); `start()` once the run starts."""
    if not config.enabled:
        return None
    from edge_app.events.http import routes

    try:
        store = EventStore(state_dir)
    except OSError as exc:
        raise EdgeAppError(
            f"cannot keep events in {state_dir} ({exc.strerror or exc})", "check the state dir's space and permissions"
        ) from None
    keeper = EventKeeper(config, store, teacher_for, announce)
    keeper.attach(bus)
    return Events(keeper, tuple(routes(keeper)))
