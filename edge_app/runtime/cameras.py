"""The cameras beside the first, and what all cameras share, started and stopped with the run.

The first camera keeps the pipeline of a one-camera run (capture, inference and display threads,
its live view, recorder and window), so a one-camera user's run is what it was; its regions, when
it has any, go to the shared worker from its capture thread. Each further camera is a capture
thread with its own heartbeat and health feeding its regions (the whole frame first) to the same
worker, one InferenceWorker for every camera and region, and every result goes out on the bus.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from edge_app.bus import Bus
from edge_app.heartbeat import Heartbeat
from edge_app.pipeline.capture import Capture, CaptureOptions, SourceHealth
from edge_app.runtime.regions import RegionRunner
from edge_app.runtime.worker import InferenceWorker
from edge_app.sink import Sink
from edge_app.sources.base import Source

log = logging.getLogger("edge_app.runtime")


@dataclass
class CameraRun:
    """One further camera: its capture, health and heartbeat, and its regions' runner."""

    name: str
    source: Source
    runner: RegionRunner
    heartbeat: Heartbeat
    health: SourceHealth
    frames: int = 0

    def body(self, options: CaptureOptions, stop: threading.Event) -> None:
        capture = Capture(self.source, options, stop, self.health, self.heartbeat.beat)
        for frame in capture.frames():
            self.frames += 1
            self.runner.frame(frame)
        if capture.ended:
            log.info("camera %s: %s after %d frames", self.name, capture.ended, self.frames)


class Service(Protocol):
    """Something the run starts and closes with the bus (events)."""

    def start(self) -> None: ...

    def close(self, timeout: float = 2.0) -> None: ...


class SharedRuntime(Sink):
    """The bus, the shared worker and the further cameras, started and closed as an output is."""

    wants_frames = False

    def __init__(
        self, bus: Bus, worker: InferenceWorker, cameras: Sequence[CameraRun], capture: CaptureOptions
    ) -> None:
        self.bus = bus
        self.worker = worker
        self.cameras = list(cameras)
        self.capture = capture
        self.services: list[Service] = []
        self._threads: list[threading.Thread] = []

    @property
    def heartbeats(self) -> list[Heartbeat]:
        return [camera.heartbeat for camera in self.cameras]

    def start(self, stop: threading.Event, lossless: bool = False) -> None:
        for service in self.services:
            service.start()
        self.bus.start()
        self.worker.start()
        for camera in self.cameras:
            thread = threading.Thread(
                target=self._guarded, args=(camera, stop), name=f"edge-app-capture-{camera.name}", daemon=True
            )
            self._threads.append(thread)
            thread.start()

    def _guarded(self, camera: CameraRun, stop: threading.Event) -> None:
        """A further camera that fails is logged and stops alone: the others go on."""
        try:
            camera.body(self.capture, stop)
        except Exception as exc:
            log.error("camera %s stopped: %s", camera.name, exc)

    def close(self, timeout: float = 2.0) -> None:
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.05, (deadline - time.monotonic()) / 3))
        if self.worker.lossless:  # batch: the crops of the last frames still run, so no result is lost
            self.worker.wait_idle(max(0.05, (deadline - time.monotonic()) / 3))
        self.worker.close(max(0.05, (deadline - time.monotonic()) / 2))
        self.bus.close(max(0.05, (deadline - time.monotonic()) / 2))
        for service in self.services:
            service.close(max(0.05, deadline - time.monotonic()))

    def status(self) -> dict[str, object]:
        return {
            camera.name: {"source": camera.health.snapshot(), "frames": camera.frames, "runs": camera.runner.runs}
            for camera in self.cameras
        }

    def stats(self) -> dict[str, object]:
        return {"worker": self.worker.stats(), "bus": self.bus.stats()}
