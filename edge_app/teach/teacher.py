"""Teaching in-process: examples in, a taught model running live out, within seconds.

An example from the camera is the newest classified frame and the embedding the live model gave
with its scores (no second model runs). An uploaded photo is embedded once by a one-thread copy
of the live model, beside the pipeline. Training fits a softmax head on the embeddings
(edge_app.train), writes the model like `edge-app train` would, and swaps it into the running
pipeline; it answers once a result of the new model has been published.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import cv2
import numpy as np

from edge_app.errors import EdgeAppError
from edge_app.frames import Frame, Result
from edge_app.model.classifier import Classifier
from edge_app.pipeline.model_slot import ModelSlot
from edge_app.teach.errors import Cancelled, Conflict, Failed, NotEnough, NotStored, TeachError
from edge_app.teach.models import Base, live_model, taught_name
from edge_app.teach.photos import decode_example, photo_suffix, thumbnail
from edge_app.teach.store import MAX_CLASSES, Example, ExampleStore, TaughtModel, check_label, note_problem, with_note
from edge_app.train import EmbeddingCache, Head, HeadOptions, fit_head, search_l2, stratified_split

log = logging.getLogger("edge_app.teach")

MIN_EXAMPLES = 2  # per class, to train at all
MIN_TO_VALIDATE = 5  # per class, to hold some out and report val_top1
LIVE_WAIT_S = 10.0  # how long train waits for the new model's first result on screen
TRAIN_NICE = 10  # training yields the CPU to the video
CANCEL_WAIT_S = 30.0  # how long a reset or delete waits for a cancelled training to stop


@dataclass(frozen=True)
class Skipped:
    """An example training passed over, and why (an unreadable photo)."""

    label: str
    digest: str
    why: str

    def as_dict(self) -> dict[str, str]:
        return {"label": self.label, "id": self.digest, "why": self.why}


@dataclass(frozen=True)
class Trained:
    classes: list[str]
    examples: int
    val_top1: float | None
    l2: float
    seconds: float
    live: bool  # a result of the new model was on screen before the answer
    skipped: list[Skipped] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "classes": self.classes,
            "examples": self.examples,
            "val_top1": None if self.val_top1 is None else round(self.val_top1, 4),
            "l2": self.l2,
            "seconds": round(self.seconds, 3),
            "live": self.live,
            "skipped": [s.as_dict() for s in self.skipped],
        }


@dataclass
class Progress:
    """Where a training is, for the status: its stage and, within it, steps done of total."""

    stage: str = ""
    done: int = 0
    total: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"stage": self.stage, "done": self.done, "total": self.total}


class Teacher:
    def __init__(self, store: ExampleStore, slot: ModelSlot, base: Base, taught: TaughtModel | None) -> None:
        self.store = store
        self.slot = slot
        self.base = base
        self.taught = taught
        self._newest: tuple[Frame, np.ndarray] | None = None
        self._newest_lock = threading.Lock()
        self._side: Classifier | None = None  # embeds uploaded photos
        self._side_lock = threading.Lock()
        self._training = threading.Lock()
        self._cancel = threading.Event()
        self.progress = Progress()
        self._last: Trained | None = None
        shape = ((slot.current.embedding_size,), np.dtype(np.float32))
        self.cache = EmbeddingCache(store.root / "embeddings" / base.sha256[:16], {"pooled": shape})

    # -- from the pipeline -------------------------------------------------------------------

    def observe(self, frame: Frame, result: Result) -> None:
        """Hook of the inference thread: keep the newest classified frame and its embedding."""
        if result.embedding is not None:
            with self._newest_lock:
                self._newest = (frame, result.embedding)

    # -- examples ----------------------------------------------------------------------------

    def add_current(self, label: str) -> dict[str, Any]:
        label = check_label(label)
        with self._newest_lock:
            newest = self._newest
        if newest is None:
            raise Conflict("no frame has been classified yet", "wait for the video, or upload a photo")
        frame, embedding = newest
        ok, jpeg = cv2.imencode(".jpg", frame.bgr, [cv2.IMWRITE_JPEG_QUALITY, 92])
        if not ok:
            raise Failed("the current frame could not be encoded", "try again")
        example, added = self.store.add(label, jpeg.tobytes(), ".jpg", thumbnail(frame.bgr))
        self.cache.put(example.digest, "orig", {"pooled": embedding.astype(np.float32)})
        return self._count(label, added)

    def add_photo(self, label: str, photo: bytes) -> dict[str, Any]:
        label = check_label(label)
        suffix = photo_suffix(photo)
        image = decode_example(photo, name="the uploaded photo")  # reduced, within the pixel budget, or refused
        example, added = self.store.add(label, photo, suffix, thumbnail(image))
        self.cache.put(example.digest, "orig", {"pooled": self._embed(image)})
        return self._count(label, added)

    def thumbnail(self, label: str, digest: str) -> bytes:
        """The example's thumbnail, made when it was added (made once now for an older example)."""
        example = self.store.example(label, digest)
        try:
            return example.thumbnail.read_bytes()
        except FileNotFoundError:
            pass
        small = thumbnail(decode_example(example.path.read_bytes(), keep_side=1, name=str(example.path)))
        self.store.keep_thumbnail(example, small)
        return small

    def _count(self, label: str, added: bool) -> dict[str, Any]:
        """`added` False: this very photo was an example already (a still view), nothing changed."""
        return {"label": label, "examples": self.store.count(label), "added": added}

    def _embed(self, image: np.ndarray) -> np.ndarray:
        """The embedding of a photo, by a one-thread copy of the live model (made on first use)."""
        with self._side_lock:
            if self._side is None:
                self._side = self.slot.current.clone(1)
            self._side.infer(self._side.prepare(image, "bgr"))
            embedding = self._side.embedding()
        assert embedding is not None
        return embedding.astype(np.float32)

    def _embedding_of(self, example: Example) -> np.ndarray:
        """From the cache (an entry that is NaN or absurd is not used: see EmbeddingCache), else
        computed; an unreadable photo raises TeachError."""
        cached = self.cache.get(example.digest, "orig")
        if cached is not None:
            return cached["pooled"]
        try:
            photo = example.path.read_bytes()
        except OSError as exc:
            raise Failed(f"cannot read {example.path} ({exc.strerror or exc})") from None
        embedding = self._embed(decode_example(photo, name=str(example.path)))
        self.cache.put(example.digest, "orig", {"pooled": embedding})
        return embedding

    def delete_class(self, label: str) -> dict[str, Any]:
        """The class and its examples go; a training running on them is cancelled first."""
        label = check_label(label)
        with self._training_stopped():
            removed = self.store.delete_class(label)
        return {"deleted": label, "examples": removed}

    def delete_example(self, label: str, digest: str) -> dict[str, Any]:
        """One example goes (e.g. a photo that does not read); a running training is cancelled first."""
        label = check_label(label)
        with self._training_stopped():
            left = self.store.delete_example(label, digest)
        return {"deleted": digest, "label": label, "examples": left}

    # -- training ----------------------------------------------------------------------------

    def train(self, on_stage: Callable[[str], None] = lambda stage: None) -> Trained:
        """Train on every example and make the result the live model. One at a time: Conflict."""
        if not self._training.acquire(blocking=False):
            raise Conflict("training is already running", "wait for it to finish, or POST /api/teach/cancel")
        try:
            self._cancel.clear()
            self.progress = Progress("starting")
            return _in_nice_thread(lambda: self._train(on_stage))
        finally:
            self.progress = Progress()
            self._training.release()

    @property
    def training(self) -> bool:
        return self._training.locked()

    def cancel(self) -> dict[str, Any]:
        """Stop a running training at its next step (the model in use stays); says whether one ran."""
        running = self.training
        if running:
            self._cancel.set()
        return {"cancelled": running}

    @contextmanager
    def _training_stopped(self) -> Iterator[None]:
        """Hold off training for the block: one that runs is cancelled and waited for (it stops
        at its next step, well within CANCEL_WAIT_S)."""
        if not self._training.acquire(blocking=False):
            self._cancel.set()
            if not self._training.acquire(timeout=CANCEL_WAIT_S):
                raise Conflict("training is running and did not stop in time", "try again in a moment")
        try:
            yield
        finally:
            self._training.release()

    def _step(self, stage: str, done: int, total: int) -> None:
        """One step of training done: shown in the status, and the place a cancel takes effect."""
        if self._cancel.is_set():
            raise Cancelled("training was cancelled", "the model in use is unchanged")
        self.progress = Progress(stage, done, total)

    def _embed_all(self, examples: list[Example]) -> tuple[list[Example], list[np.ndarray], list[Skipped]]:
        """Each example's embedding; an unreadable photo is skipped and reported, as edge-app train does."""
        kept: list[Example] = []
        values: list[np.ndarray] = []
        skipped: list[Skipped] = []
        for done, example in enumerate(examples):
            self._step("embedding", done, len(examples))
            try:
                values.append(self._embedding_of(example))
            except TeachError as exc:
                skipped.append(Skipped(example.label, example.digest, exc.message))
                log.warning("training passes over %s: %s", example.path, exc.message)
                continue
            kept.append(example)
        return kept, values, skipped

    def _train(self, on_stage: Callable[[str], None]) -> Trained:
        started = time.monotonic()
        classes = self.store.classes()
        _check_count(classes)
        on_stage("embedding")
        examples, values, skipped = self._embed_all([e for found in classes.values() for e in found])
        readable: dict[str, list[Example]] = {}
        for example in examples:
            readable.setdefault(example.label, []).append(example)
        _check_enough(readable, skipped)
        labels = list(readable)
        x = np.stack(values)
        index = {label: i for i, label in enumerate(labels)}
        y = np.array([index[example.label] for example in examples])
        on_stage("fitting")
        fits = _Fits(self)
        val_top1 = _validate(x, y, len(labels), fits)
        l2 = search_l2(x[:, None, :], y, len(labels), on_fit=fits.step).chosen
        head = fit_head(x, y, len(labels), HeadOptions(l2=l2))
        self._step("building", 0, 1)
        on_stage("building")
        taught, live = self._build(head, labels, len(examples), val_top1)
        self._step("swapping", 0, 1)
        on_stage("swapping")
        self._keep(taught)
        on_screen = self.slot.swap(live).wait(LIVE_WAIT_S)
        self.taught = taught
        self._last = Trained(labels, len(examples), val_top1, l2, time.monotonic() - started, on_screen, skipped)
        log.info(
            "taught %d classes (%s) on %d examples in %.2f s%s%s",
            len(labels),
            ", ".join(labels),
            len(examples),
            self._last.seconds,
            f", validation top-1 {val_top1:.0%}" if val_top1 is not None else "",
            f"; {len(skipped)} unreadable example(s) passed over" if skipped else "",
        )
        return self._last

    def _build(
        self, head: Head, labels: list[str], examples: int, val_top1: float | None
    ) -> tuple[TaughtModel, Classifier]:
        """The taught model and its live classifier, read back from the very bytes that will be
        kept: a model that does not load with these labels is never written."""
        from edge_app.train import build_classifier_model

        note = {
            "base": self.base.name,
            "base_sha256": self.base.sha256,
            "classes": labels,
            "examples": examples,
            "val_top1": None if val_top1 is None else round(val_top1, 4),
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        data = with_note(build_classifier_model(self.base.data, head, labels), note)
        problem = note_problem(data)
        if problem is not None:
            raise Failed(f"the taught model does not read back: {problem}; nothing was written")
        try:
            live = live_model(data, taught_name(self.base), self.slot.current.options)
        except EdgeAppError as exc:
            raise Failed(f"the taught model does not load ({exc.message}); nothing was written") from None
        if live.labels != labels:
            raise Failed(
                f"the taught model reads back {len(live.labels)} labels for {len(labels)} classes; nothing was written"
            )
        return TaughtModel(data, note), live

    def _keep(self, taught: TaughtModel) -> None:
        try:
            self.store.save_model(taught.data, taught.note)
        except OSError as exc:
            raise NotStored(
                f"cannot save the taught model in {self.store.root} ({exc.strerror or exc})",
                "check the state dir's space and permissions",
            ) from None

    def reset(self, keep_examples: bool = True) -> dict[str, Any]:
        """Back to the base model, whatever the state dir holds: a running training is cancelled,
        the taught model file goes (a damaged one too), the examples stay unless asked."""
        with self._training_stopped():
            removed = self.store.delete_model()
            self.slot.swap(live_model(self.base.data, self.base.name, self.slot.current.options))
            self.taught = None
            self._last = None  # it described the model just removed
            deleted = 0 if keep_examples else self.store.delete_all()
            return {
                "model": self.base.name,
                "removed_taught_model": removed,
                "examples_kept": keep_examples,
                "examples_deleted": deleted,
            }

    # -- what the page shows -----------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """What teaching has and does; each class lists the ids of its newest examples (the web
        edge makes them into thumbnail URLs)."""
        classes = self.store.classes()
        return {
            "enabled": True,
            "base": self.base.name,
            "model": self.slot.current.info.name,
            "trained": self.taught is not None,
            "taught": self.taught.note if self.taught is not None else None,
            "training": self.training,
            "progress": self.progress.as_dict() if self.training else None,
            "min_examples": MIN_EXAMPLES,
            "max_classes": MAX_CLASSES,
            "classes": [
                {"label": label, "examples": len(found), "recent": [example.digest for example in found[-4:]]}
                for label, found in classes.items()
            ],
            "last_train": self._last.as_dict() if self._last else None,
        }


class _Fits:
    """Counts the fits of a search as training steps (each a point where a cancel stops it)."""

    def __init__(self, teacher: Teacher) -> None:
        self.teacher = teacher
        self.done = 0

    def step(self) -> None:
        self.done += 1
        self.teacher._step("fitting", self.done, 0)


def _check_count(classes: dict[str, list[Example]]) -> None:
    if len(classes) > MAX_CLASSES:
        raise NotEnough(
            f"teaching trains at most {MAX_CLASSES} classes, there are {len(classes)}",
            "delete some classes, or train more with edge-app train",
        )


def _check_enough(classes: dict[str, list[Example]], skipped: list[Skipped]) -> None:
    """Two classes or more, each with MIN_EXAMPLES readable ones; the error says exactly what is
    missing (and which examples were unreadable)."""
    unreadable = ""
    if skipped:
        first = skipped[0]
        unreadable = (
            f" ({len(skipped)} unreadable example(s) passed over, e.g. {first.label}/{first.digest[:12]}: {first.why})"
        )
    if len(classes) < 2:
        have = f"only {next(iter(classes))!r}" if classes else "none"
        raise NotEnough(
            f"training needs at least 2 classes, there is {have}{unreadable}",
            "add examples of another class" if classes else "add examples of two classes",
        )
    short = {label: len(found) for label, found in classes.items() if len(found) < MIN_EXAMPLES}
    if short:
        missing = ", ".join(f"{label!r} has {n} (add {MIN_EXAMPLES - n} more)" for label, n in short.items())
        raise NotEnough(
            f"each class needs at least {MIN_EXAMPLES} examples: {missing}{unreadable}",
            "add examples, or delete the class",
        )


def _validate(x: np.ndarray, y: np.ndarray, classes: int, fits: _Fits) -> float | None:
    """Top-1 on held-out examples (a seeded, stratified fifth) of a head searched and trained on
    the rest only; None when a class has too few examples to hold any out."""
    if np.bincount(y, minlength=classes).min() < MIN_TO_VALIDATE:
        return None
    split = stratified_split(y, 0.2)
    l2 = search_l2(x[split.train][:, None, :], y[split.train], classes, on_fit=fits.step).chosen
    head = fit_head(x[split.train], y[split.train], classes, HeadOptions(l2=l2))
    return float(np.mean(head.predict(x[split.val]) == y[split.val]))


def _in_nice_thread(work: Callable[[], Trained]) -> Trained:
    """Run `work` in a thread of lower CPU priority (Linux: per thread), so the video keeps its
    frame rate while training; the caller waits for it."""
    outcome: list[Any] = []

    def body() -> None:
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), TRAIN_NICE)
        except (AttributeError, OSError):  # not Linux, or not allowed: train at normal priority
            pass
        try:
            outcome.append(work())
        except BaseException as exc:  # handed back to the caller's thread
            outcome.append(exc)

    thread = threading.Thread(target=body, name="edge-app-teach", daemon=True)
    thread.start()
    thread.join()
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]
