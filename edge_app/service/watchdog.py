"""Liveness for systemd: ping WATCHDOG=1 only while every pipeline thread makes progress.

Each pipeline thread beats its own Heartbeat (edge_app.heartbeat). A thread stuck inside a
driver call stops beating; then the Watchdog withholds the ping and systemd restarts the
service after WatchdogSec.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence

from edge_app.heartbeat import Heartbeat
from edge_app.service import notify
from edge_app.service.notify import Notifier

log = logging.getLogger(__name__)

IDLE_PERIOD_S = 5.0  # how often STATUS is refreshed when systemd asked for no watchdog
IDLE_STALE_S = 30.0  # when a thread counts as stuck (for logs and STATUS) without a watchdog
START_EXTENSION_TURNS = 3  # EXTEND_TIMEOUT_USEC covers this many turns, so one late turn is harmless


def stale(heartbeats: Iterable[Heartbeat], limit: float) -> list[tuple[str, float]]:
    """(name, age) of every heartbeat at least `limit` seconds old."""
    ages = ((hb.name, hb.age()) for hb in heartbeats)
    return [(name, age) for name, age in ages if age >= limit]


def stuck_text(stuck: Sequence[tuple[str, float]]) -> str:
    return "stuck: " + ", ".join(f"{name} thread silent for {age:.0f} s" for name, age in stuck)


class Watchdog:
    """A thread that turns heartbeats into WATCHDOG=1 and STATUS= messages every half interval."""

    def __init__(
        self,
        notifier: Notifier,
        heartbeats: Iterable[Heartbeat],
        stop_event: threading.Event,
        status_fn: Callable[[], str] | None = None,
    ) -> None:
        self.notifier = notifier
        self.heartbeats = list(heartbeats)
        self.stop_event = stop_event
        self.status_fn = status_fn
        interval = notifier.watchdog_interval
        self.period = interval / 2 if interval else IDLE_PERIOD_S
        self.stale_after = interval if interval else IDLE_STALE_S
        self._stuck: set[str] = set()
        self._status_failed = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if not self.notifier.enabled:
            return  # not under systemd: nobody to tell
        self._thread = threading.Thread(target=self._run, name="watchdog", daemon=True)
        self._thread.start()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        """The pinging thread is alive (never outside systemd; not after stop)."""
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        while True:
            self.tick()
            if self.stop_event.wait(self.period):
                return

    def tick(self) -> list[str]:
        """One turn: decide what to tell systemd, send it as one datagram, return the fields sent."""
        stuck = stale(self.heartbeats, self.stale_after)
        self._log_changes(stuck)
        if stuck:
            fields = [notify.status_field(stuck_text(stuck))]  # and no WATCHDOG=1: systemd will restart us
        else:
            fields = []
            if self.notifier.watchdog_interval:
                fields.append(notify.WATCHDOG)
            if not self.notifier.is_ready:  # healthy but still waiting for a first result (e.g. no camera yet)
                fields.append(notify.extend_timeout_field(self.period * START_EXTENSION_TURNS))
            status = self._status()
            if status:
                fields.append(notify.status_field(status))
        if fields:
            self.notifier.send(*fields)
        return fields

    def _status(self) -> str | None:
        if self.status_fn is None:
            return None
        try:
            text = self.status_fn()
        except Exception:  # a broken status line must not stop the pings
            if not self._status_failed:
                self._status_failed = True
                log.exception("status for systemd failed; pinging without it")
            return None
        self._status_failed = False
        return text

    def _log_changes(self, stuck: Sequence[tuple[str, float]]) -> None:
        names = {name for name, _ in stuck}
        for name, age in stuck:
            if name not in self._stuck:
                consequence = (
                    "withholding the watchdog ping, so systemd restarts edge-app"
                    if self.notifier.watchdog_interval
                    else "no watchdog is set to restart edge-app"
                )
                log.error(
                    "%s thread has made no progress for %.1f s (stuck in a driver call?); %s", name, age, consequence
                )
        for name in sorted(self._stuck - names):
            log.warning("%s thread is making progress again", name)
        self._stuck = names
