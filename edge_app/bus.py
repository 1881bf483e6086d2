"""A small bus of typed events between the pipeline and everything that reacts to it.

The pipeline publishes; outputs and services subscribe to the kinds they want. Each subscriber
has its own thread behind a bounded queue that drops its oldest event when full (and counts the
drop), so a slow output can never stall the pipeline: that rule is enforced here, and only here.
In batch mode (`lossless`), publishing waits for room instead, because then every event counts.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

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
    """One subscriber's queue and thread. `dropped` counts events it was too slow for."""

    name: str
    handler: Handler
    kinds: tuple[type, ...]
    maxsize: int = DEFAULT_QUEUE
    delivered: int = 0
    dropped: int = 0
    failed: int = 0
    _queue: deque[Any] = field(default_factory=deque)
    _ready: threading.Condition = field(default_factory=threading.Condition)
    _thread: threading.Thread | None = None
    _closing: bool = False

    def wants(self, event: object) -> bool:
        return isinstance(event, self.kinds)

    def offer(self, event: object, lossless: bool) -> None:
        with self._ready:
            while lossless and len(self._queue) >= self.maxsize and not self._closing:
                self._ready.wait(0.5)
            if len(self._queue) >= self.maxsize:
                self._queue.popleft()
                self.dropped += 1
            self._queue.append(event)
            self._ready.notify_all()

    def run(self) -> None:
        while True:
            with self._ready:
                while not self._queue and not self._closing:
                    self._ready.wait()
                if not self._queue:
                    return  # closing, and everything handed over was delivered
                event = self._queue.popleft()
                self._ready.notify_all()
            try:
                self.handler(event)
                self.delivered += 1
            except Exception:  # one bad event never ends a subscriber
                self.failed += 1
                log.exception("%s failed on %s", self.name, type(event).__name__)

    def stats(self) -> dict[str, int]:
        return {"delivered": self.delivered, "dropped": self.dropped, "failed": self.failed, "queued": len(self._queue)}


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
        subscription = Subscription(name, handler, kinds, maxsize)
        self._subscriptions.append(subscription)
        return subscription

    def wanted(self, kind: type) -> bool:
        """Whether anyone listens for `kind` (so the pipeline can skip drawing frames nobody shows)."""
        return any(issubclass(kind, s.kinds) for s in self._subscriptions)

    def start(self) -> None:
        self._started = True
        for subscription in self._subscriptions:
            thread = threading.Thread(target=subscription.run, name=f"edge-app-bus-{subscription.name}", daemon=True)
            subscription._thread = thread
            thread.start()

    def publish(self, event: object) -> None:
        """Never blocks in real time; in lossless mode waits for room."""
        for subscription in self._subscriptions:
            if subscription.wants(event):
                subscription.offer(event, self.lossless)

    def close(self, timeout: float = 2.0) -> None:
        """Deliver what is queued, then end each subscriber's thread, waiting about `timeout` in all."""
        for subscription in self._subscriptions:
            with subscription._ready:
                subscription._closing = True
                subscription._ready.notify_all()
        per = timeout / max(1, len(self._subscriptions))
        for subscription in self._subscriptions:
            if subscription._thread is not None:
                subscription._thread.join(per)
                if subscription._thread.is_alive():
                    log.warning("%s did not finish within %.1f s", subscription.name, per)

    def stats(self) -> dict[str, dict[str, int]]:
        return {s.name: s.stats() for s in self._subscriptions}
