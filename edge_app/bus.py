"""A small bus of typed events between the pipeline and everything that reacts to it.

The pipeline publishes; outputs and services subscribe to the kinds they want. Each subscriber
has its own thread behind a Mailbox (mailbox.py: full, it drops its oldest event and counts the
drop), so a slow output can never stall the pipeline. In batch mode (`lossless`), publishing
waits for room instead, because then every event counts.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from edge_app.mailbox import Mailbox

if TYPE_CHECKING:
    import numpy as np

    from edge_app.frames import Frame, Result
    from edge_app.regions.spec import Box

log = logging.getLogger("edge_app.bus")
DEFAULT_QUEUE = 64


@dataclass(frozen=True)
class FrameShown:
    """A displayed frame of `camera`, with the newest results drawn on it (BGR)."""

    camera: str
    image: np.ndarray
    frame: Frame
    result: Result | None


@dataclass(frozen=True)
class Classified:
    """A result for one region of one camera (the whole frame is region "frame"), with the region's
    verified `state` after it and whether a different label is `pending` confirmation."""

    camera: str
    region: str
    frame: Frame
    result: Result
    box: Box | None = None  # None: the whole frame
    state: str | None = None
    pending: bool = False


@dataclass(frozen=True)
class StateChanged:
    """A region's verified state changed: `confirm` results in a row agreed above the threshold.
    `frame` is the frame that confirmed it (for snapshots); `previous` is None on the first state."""

    camera: str
    region: str
    state: str
    previous: str | None
    score: float
    frame: Frame
    box: Box
    ts: float
    top: tuple[tuple[str, float], ...] = ()


Event = FrameShown | Classified | StateChanged
Handler = Callable[[Any], None]


@dataclass
class Subscription:
    """One subscriber's mailbox and thread. `dropped` counts events it was too slow for."""

    name: str
    handler: Handler
    kinds: tuple[type, ...]
    mailbox: Mailbox[Any]
    delivered: int = 0
    failed: int = 0
    thread: threading.Thread | None = field(default=None, repr=False)

    @property
    def dropped(self) -> int:
        return self.mailbox.dropped

    def wants(self, event: object) -> bool:
        return isinstance(event, self.kinds)

    def run(self) -> None:
        while (event := self.mailbox.get()) is not None:
            try:
                self.handler(event)
                self.delivered += 1
            except Exception:  # one bad event never ends a subscriber
                self.failed += 1
                log.exception("%s failed on %s", self.name, type(event).__name__)

    def stats(self) -> dict[str, int]:
        return {
            "delivered": self.delivered,
            "dropped": self.dropped,
            "failed": self.failed,
            "queued": len(self.mailbox),
        }


class Bus:
    def __init__(self, lossless: bool = False) -> None:
        self.lossless = lossless
        self._subscriptions: list[Subscription] = []
        self._started = False

    def subscribe(
        self, name: str, handler: Handler, kinds: tuple[type, ...], maxsize: int = DEFAULT_QUEUE
    ) -> Subscription:
        """`handler` runs on the subscriber's own thread, for each event of `kinds`, in order."""
        if self._started:
            raise RuntimeError("subscribe before the bus starts")
        subscription = Subscription(name, handler, kinds, Mailbox(maxsize, self.lossless))
        self._subscriptions.append(subscription)
        return subscription

    def wanted(self, kind: type) -> bool:
        """Whether anyone listens for `kind` (so the pipeline can skip drawing frames nobody shows)."""
        return any(issubclass(kind, s.kinds) for s in self._subscriptions)

    def start(self) -> None:
        self._started = True
        for subscription in self._subscriptions:
            thread = threading.Thread(target=subscription.run, name=f"edge-app-bus-{subscription.name}", daemon=True)
            subscription.thread = thread
            thread.start()

    def publish(self, event: object) -> None:
        """Never blocks in real time; in lossless mode waits for room."""
        for subscription in self._subscriptions:
            if subscription.wants(event):
                subscription.mailbox.put(event)

    def close(self, timeout: float = 2.0) -> None:
        """Deliver what is queued, then end each subscriber's thread, waiting about `timeout` in all."""
        for subscription in self._subscriptions:
            subscription.mailbox.close()
        per = timeout / max(1, len(self._subscriptions))
        for subscription in self._subscriptions:
            if subscription.thread is not None:
                subscription.thread.join(per)
                if subscription.thread.is_alive():
                    log.warning("%s did not finish within %.1f s", subscription.name, per)

    def stats(self) -> dict[str, dict[str, int]]:
        return {s.name: s.stats() for s in self._subscriptions}
