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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

import cv2
import numpy as np

from edge_app.errors import EdgeAppError
from edge_app.frames import Frame, Result
from edge_app.images import decode_image, read_image
from edge_app.model.classifier import Classifier
from edge_app.pipeline.model_slot import ModelSlot
from edge_app.teach.models import Base, live_model, taught_name
from edge_app.teach.store import Example, ExampleStore, TaughtModel, TeachError, check_label
from edge_app.train.cache import EmbeddingCache
from edge_app.train.head import Head, HeadOptions, fit_head
from edge_app.train.search import search_l2
from edge_app.train.split import stratified_split

log = logging.getLogger("edge_app.teach")

MIN_EXAMPLES = 2  # per class, to train at all
MIN_TO_VALIDATE = 5  # per class, to hold some out and report val_top1
LIVE_WAIT_S = 10.0  # how long train waits for the new model's first result on screen
TRAIN_NICE = 10  # training yields the CPU to the video


@dataclass(frozen=True)
class Trained:
    classes: list[str]
    examples: int
    val_top1: float | None
    l2: float
    seconds: float
    live: bool  # a result of the new model was on screen before the answer

    def as_dict(self) -> dict[str, Any]:
        return {
            "classes": self.classes,
            "examples": self.examples,
            "val_top1": None if self.val_top1 is None else round(self.val_top1, 4),
            "l2": self.l2,
            "seconds": round(self.seconds, 3),
            "live": self.live,
        }


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
            raise TeachError("no frame has been classified yet", "wait for the video, or upload a photo", 409)
        frame, embedding = newest
        ok, jpeg = cv2.imencode(".jpg", frame.bgr, [cv2.IMWRITE_JPEG_QUALITY, 92])
        if not ok:
            raise TeachError("the current frame could not be encoded", "try again", 500)
        example, added = self.store.add(label, jpeg.tobytes(), ".jpg")
        self.cache.put(example.digest, "orig", {"pooled": embedding.astype(np.float32)})
        return self._count(label, added)

    def add_photo(self, label: str, photo: bytes) -> dict[str, Any]:
        label = check_label(label)
        suffix = _photo_suffix(photo)
        try:
            image = decode_image(
                np.frombuffer(photo, np.uint8), Path(f"the uploaded photo{suffix}")
            )  # huge ones reduced or refused
        except EdgeAppError as exc:
            raise TeachError(exc.message, "send a complete JPEG or PNG photo", 400) from None
        example, added = self.store.add(label, photo, suffix)
        self.cache.put(example.digest, "orig", {"pooled": self._embed(image)})
        return self._count(label, added)

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
        cached = self.cache.get(example.digest, "orig")
        if cached is not None:
            return cached["pooled"]
        embedding = self._embed(read_image(example.path))
        self.cache.put(example.digest, "orig", {"pooled": embedding})
        return embedding

    def delete_class(self, label: str) -> dict[str, Any]:
        if self.training:
            raise TeachError("training is running on these examples", "delete the class when it has finished", 409)
        removed = self.store.delete_class(label)
        return {"deleted": check_label(label), "examples": removed}

    # -- training ----------------------------------------------------------------------------

    def train(self, on_stage: Callable[[str], None] = lambda stage: None) -> Trained:
        """Train on every example and make the result the live model. One at a time: 409."""
        if not self._training.acquire(blocking=False):
            raise TeachError("training is already running", "wait for it to finish", 409)
        try:
            return _in_nice_thread(lambda: self._train(on_stage))
        finally:
            self._training.release()

    @property
    def training(self) -> bool:
        return self._training.locked()

    def _train(self, on_stage: Callable[[str], None]) -> Trained:
        started = time.monotonic()
        classes = self.store.classes()
        _check_enough(classes)
        labels = list(classes)
        examples = [example for label in labels for example in classes[label]]
        on_stage("embedding")
        x = np.stack([self._embedding_of(example) for example in examples])
        index = {label: i for i, label in enumerate(labels)}
        y = np.array([index[example.label] for example in examples])
        on_stage("fitting")
        val_top1 = _validate(x, y, len(labels))
        l2 = search_l2(x[:, None, :], y, len(labels)).chosen
        head = fit_head(x, y, len(labels), HeadOptions(l2=l2))
        on_stage("building")
        taught = self._save(head, labels, len(examples), val_top1)
        on_stage("swapping")
        live = live_model(taught.data, taught_name(self.base), self.slot.current.options)
        on_screen = self.slot.swap(live).wait(LIVE_WAIT_S)
        self.taught = taught
        self._last = Trained(labels, len(examples), val_top1, l2, time.monotonic() - started, on_screen)
        log.info(
            "taught %d classes (%s) on %d examples in %.2f s%s",
            len(labels),
            ", ".join(labels),
            len(examples),
            self._last.seconds,
            f", validation top-1 {val_top1:.0%}" if val_top1 is not None else "",
        )
        return self._last

    def _save(self, head: Head, labels: list[str], examples: int, val_top1: float | None) -> TaughtModel:
        from edge_app.train import build_classifier_model

        note = {
            "base": self.base.name,
            "base_sha256": self.base.sha256,
            "classes": labels,
            "examples": examples,
            "val_top1": None if val_top1 is None else round(val_top1, 4),
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        try:
            return self.store.save_model(build_classifier_model(self.base.data, head, labels), note)
        except OSError as exc:
            raise TeachError(
                f"cannot save the taught model in {self.store.root} ({exc.strerror or exc})",
                "check the state dir's space and permissions",
                507,
            ) from None

    def reset(self, keep_examples: bool = True) -> dict[str, Any]:
        """Back to the base model; the taught model file goes, the examples stay unless asked."""
        if not self._training.acquire(blocking=False):
            raise TeachError("training is running", "reset when it has finished", 409)
        try:
            removed = self.store.delete_model()
            self.slot.swap(live_model(self.base.data, self.base.name, self.slot.current.options))
            self.taught = None
            self._last = None  # it described the model just removed
            deleted = 0
            if not keep_examples:
                deleted = sum(self.store.delete_class(label) for label in list(self.store.classes()))
            return {
                "model": self.base.name,
                "removed_taught_model": removed,
                "examples_kept": keep_examples,
                "examples_deleted": deleted,
            }
        finally:
            self._training.release()

    # -- what the page shows -----------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        classes = self.store.classes()
        return {
            "enabled": True,
            "base": self.base.name,
            "model": self.slot.current.info.name,
            "trained": self.taught is not None,
            "taught": self.taught.note if self.taught is not None else None,
            "training": self.training,
            "min_examples": MIN_EXAMPLES,
            "classes": [
                {
                    "label": label,
                    "examples": len(found),
                    "photos": [
                        f"/api/teach/photos/{quote(example.label, safe='')}/{example.digest}" for example in found[-4:]
                    ],
                }
                for label, found in classes.items()
            ],
            "last_train": self._last.as_dict() if self._last else None,
        }


def _photo_suffix(photo: bytes) -> str:
    if photo.startswith(b"\xff\xd8\xff"):
        return ".jpg"
    if photo.startswith(b"\x89PNG\r\n\x1a\n"):
        return ".png"
    raise TeachError(
        "the body is not a JPEG or PNG photo",
        "send image/jpeg or image/png, or an empty body for the current frame",
        415,
    )


def _check_enough(classes: dict[str, list[Example]]) -> None:
    """Two classes or more, each with MIN_EXAMPLES; the error says exactly what is missing."""
    if len(classes) < 2:
        have = f"only {next(iter(classes))!r}" if classes else "none"
        raise TeachError(
            f"training needs at least 2 classes, there is {have}",
            "add examples of another class" if classes else "add examples of two classes",
            422,
        )
    short = {label: len(found) for label, found in classes.items() if len(found) < MIN_EXAMPLES}
    if short:
        missing = ", ".join(f"{label!r} has {n} (add {MIN_EXAMPLES - n} more)" for label, n in short.items())
        raise TeachError(
            f"each class needs at least {MIN_EXAMPLES} examples: {missing}", "add examples, or delete the class", 422
        )


def _validate(x: np.ndarray, y: np.ndarray, classes: int) -> float | None:
    """Top-1 on held-out examples (a seeded, stratified fifth) of a head searched and trained on
    the rest only; None when a class has too few examples to hold any out."""
    if np.bincount(y, minlength=classes).min() < MIN_TO_VALIDATE:
        return None
    split = stratified_split(y, 0.2)
    l2 = search_l2(x[split.train][:, None, :], y[split.train], classes).chosen
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
