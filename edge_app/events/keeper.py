"""The bus subscriber that keeps events: a region's verified change (StateChanged), and a watched
whole-frame label starting or ending, become a row with its snapshot and crop (and a clip); results
(Classified) worth a look go to the review queue; displayed frames (FrameShown) feed the clip
buffer, subscribed to only while some region has clips on.

It runs on the bus's own thread for it (the bus drops its oldest events when it falls behind, so
the pipeline never waits); rows go to the database writer without waiting either.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge_app.atomic import atomic_write_bytes
from edge_app.bus import Bus, Classified, FrameShown, StateChanged
from edge_app.events import retention, snapshots
from edge_app.events.clips import ClipBuffer
from edge_app.events.disk import DiskGuard, disk_of
from edge_app.events.review import ReviewOptions, ReviewPicker
from edge_app.events.review_store import FOLDER, NewReview, ReviewQueue
from edge_app.events.store import EventRow, EventStore, NewEvent
from edge_app.events.teaching import TeacherFor
from edge_app.events.watch import WatchTracker
from edge_app.regions.spec import WHOLE_FRAME, Box
from edge_app.settings.sections.events import EventsConfig

log = logging.getLogger("edge_app.events")
CONTEXT_SIDE = 640  # a review frame's whole picture is kept at most this large
DEFAULT_FPS = 30.0
RETENTION_S = 3600.0  # keep_days is also applied this often when nothing happens


@dataclass(frozen=True)
class Kept:
    """What became of one event (for the HTTP answer, MQTT and tests)."""

    id: int
    row: NewEvent
    snapshot: bytes | None


Announce = Callable[[Kept], None]


def stem(ts: float, camera: str, region: str) -> str:
    return f"{time.strftime('%Y%m%d-%H%M%S', time.localtime(ts))}-{camera}-{region}-{secrets.token_hex(3)}"


class EventKeeper:
    def __init__(
        self,
        config: EventsConfig,
        store: EventStore,
        teacher_for: TeacherFor,
        announce: Announce | None = None,
        fps: Callable[[], float | None] = lambda: None,
    ) -> None:
        self.config = config
        self.store = store
        self.review = ReviewQueue(store)
        self.picker = ReviewPicker(ReviewOptions(below=config.review_below))
        self.teacher_for = teacher_for
        self.announce = announce
        self.guard = DiskGuard(store.media)
        self.fps = fps  # the source's, known once it is open (the clip encoder's rate; 30 until then)
        self.kept = 0
        self._clips: dict[str, ClipBuffer] = {}
        self._watch: dict[str, WatchTracker] = {}
        self._stop = threading.Event()
        self._lossless = False  # the bus's: in batch mode every frame reaches the clip encoder
        self._sweeper: threading.Thread | None = None

    @property
    def clips_on(self) -> bool:
        return self.config.clips or any(own.clips for own in self.config.regions.values())

    def attach(self, bus: Bus) -> None:
        self._lossless = bus.lossless
        bus.subscribe("events", self.handle, (StateChanged, Classified))
        if self.clips_on:
            bus.subscribe("event-clips", self.shown, (FrameShown,), maxsize=8)

    def start(self) -> None:
        self.sweep()
        self._sweeper = threading.Thread(target=self._sweep_hourly, name="edge-app-events-retention", daemon=True)
        self._sweeper.start()

    def close(self, timeout: float = 2.0) -> None:
        self._stop.set()
        for buffer in self._clips.values():
            buffer.close(timeout / 2)
        self.store.close(timeout / 2)

    # -- bus handlers -------------------------------------------------------------------------

    def handle(self, event: object) -> None:
        if isinstance(event, StateChanged):
            self.changed(event)
        elif isinstance(event, Classified):
            self.classified(event)

    def shown(self, event: FrameShown) -> None:
        buffer = self._clips.get(event.camera)
        if buffer is None:
            buffer = self._clips[event.camera] = ClipBuffer(
                self.config.pre_s,
                self.config.post_s,
                self.fps() or DEFAULT_FPS,
                lambda exc: self.guard.refused("a clip", exc),
                self._lossless,
            )
            buffer.start()
        buffer.offer(event.image, event.frame.mono)

    def changed(self, event: StateChanged) -> Kept | None:
        new = NewEvent(event.ts, event.camera, event.region, event.state, event.previous, event.score)
        return self._keep(new, event.frame.bgr, event.box, event.frame.mono)

    def classified(self, event: Classified) -> None:
        if not event.result.top:
            return
        top = event.result.top[0]
        image = event.frame.bgr
        if event.region == WHOLE_FRAME and self.config.watch:
            tracker = self._watch.setdefault(event.camera, WatchTracker.of(self.config.watch))
            for change in tracker.observe([(label.label, label.score) for label in event.result.top]):
                previous = None if change.kind == "start" else change.label
                new = NewEvent(
                    event.result.ts, event.camera, event.region, change.label, previous, change.score, change.kind
                )
                self._keep(new, image, event.box, event.frame.mono)
        teacher = self.teacher_for(event.camera, event.region)
        region_crop = snapshots.crop(image, event.box)
        why = self.picker.pick(
            (event.camera, event.region),
            (top.label, top.score),
            (event.state, event.pending),
            (event.result.mono, event.result.ts),
            region_crop,
            taught=teacher is None or teacher.taught,
            below=self.config.review_below_for(event.region),
        )
        if why is not None:
            self._review(event, region_crop, why)

    # -- keeping ------------------------------------------------------------------------------

    def _keep(self, new: NewEvent, image: np.ndarray, box: Box | None, mono: float) -> Kept | None:
        name = stem(new.ts, new.camera, new.region)
        caption = f"{new.region}: {new.label} {new.score:.2f}" if new.kind == "state" else f"{new.label} {new.kind}"
        shot = snapshots.snapshot(image, box, caption)
        files = self._write({f"{name}.jpg": shot.full, f"{name}-crop.jpg": shot.crop})
        clip = None
        if files and self.config.clips_for(new.region) and new.camera in self._clips and self.guard.ok:
            clip = f"{name}.mp4"
        row = NewEvent(
            **{
                **new.__dict__,
                "snapshot": f"{name}.jpg" if files else None,
                "crop": f"{name}-crop.jpg" if files else None,
                "clip": clip,
                "bytes": files,
            }
        )
        future = self.store.add(row)
        if clip is not None:
            self._clips[new.camera].clip(self.store.file(clip), mono, lambda path: self._clipped(future, path))
        try:
            event_id = future.result(5.0)
        except Exception as exc:  # noqa: BLE001 - dropped (queue full) or the disk refused: the run goes on
            log.warning("events: an event of %s/%s was not kept (%s)", new.camera, new.region, exc)
            return None
        self.kept += 1
        kept = Kept(event_id, row, shot.full if files else None)
        if self.announce is not None:
            self.announce(kept)
        self.sweep()
        return kept

    def _clipped(self, future: Future[int], path: Path | None) -> None:
        def update(done: Future[int]) -> None:
            if done.exception() is None:
                self.store.update_files(done.result(), clip=path.name if path else None)

        future.add_done_callback(update)

    def _write(self, files: dict[str, bytes]) -> int:
        """The bytes written, 0 when the disk refused (then nothing of them is kept)."""
        if not self.guard.ok:
            return 0
        written: list[Path] = []
        try:
            for name, data in files.items():
                path = self.store.file(name)
                atomic_write_bytes(path, data)
                written.append(path)
        except OSError as exc:
            for path in written:
                path.unlink(missing_ok=True)
            if not self.guard.refused("a snapshot", exc):
                log.error("events: cannot write a snapshot in %s (%s)", self.store.media, exc.strerror or exc)
            return 0
        return sum(len(data) for data in files.values())

    def _review(self, event: Classified, region_crop: np.ndarray, why: str) -> None:
        name = f"{FOLDER}/{stem(event.result.ts, event.camera, event.region)}"
        context = snapshots.draw_box(snapshots.thumbnail(event.frame.bgr, CONTEXT_SIDE), event.box, "")
        files = {
            f"{name}-crop.jpg": snapshots.encode_jpeg(region_crop),
            f"{name}-frame.jpg": snapshots.encode_jpeg(context),
        }
        if not self._write(files):
            return
        top = event.result.top[0]
        embedding = event.result.embedding
        self.review.add(
            NewReview(
                event.result.ts,
                event.camera,
                event.region,
                top.label,
                top.score,
                event.state,
                why,
                f"{name}-crop.jpg",
                f"{name}-frame.jpg",
                None if embedding is None else np.asarray(embedding, np.float32).tobytes(),
            )
        )

    # -- retention ----------------------------------------------------------------------------

    def sweep(self) -> retention.Plan:
        """Apply keep_days, keep_mb and the disk's 5 %: the oldest events go, with their files."""
        plan = retention.plan(
            self.store.usage(),
            time.time(),
            self.config.keep_days,
            self.config.keep_bytes,
            disk_of(self.store.media),
        )
        if plan:
            self.store.delete(plan.ids, wait=True).result(10.0)
            if plan.low_disk:
                log.warning("events: the disk has under 5 %% free; the %d oldest events were deleted", len(plan.ids))
            else:
                log.info("events: %d old events deleted (keep_days / keep_mb)", len(plan.ids))
        self.guard.recheck()
        return plan

    def _sweep_hourly(self) -> None:
        while not self._stop.wait(RETENTION_S):
            try:
                self.sweep()
            except Exception:  # noqa: BLE001 - retention waits for the next hour; the run goes on
                log.exception("events: retention failed")


def row_of(kept: Kept) -> EventRow:
    return EventRow(**kept.row.__dict__, id=kept.id)
