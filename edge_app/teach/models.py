"""Which model runs when teaching is on: the base, or the model taught on it and kept in the state
dir, each with its pooled embedding as a second output so the live pipeline hands every frame's
embedding to teaching for free. The same command line and state dir give the same model after a
restart, from the first frame."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from edge_app.errors import EdgeAppError
from edge_app.model.classifier import Classifier
from edge_app.model.options import ModelOptions
from edge_app.teach.store import ExampleStore, TaughtModel

log = logging.getLogger("edge_app.teach")


@dataclass(frozen=True)
class Base:
    """The model teaching builds on, identified by its content (a renamed file is the same base).
    Read once: training builds on these bytes, and reset goes back to them."""

    name: str
    data: bytes
    sha256: str

    @classmethod
    def of(cls, classifier: Classifier) -> Base:
        return cls.read(classifier.info.name, classifier.info.path)

    @classmethod
    def read(cls, name: str, path: Path) -> Base:
        data = path.read_bytes()
        return cls(name, data, hashlib.sha256(data).hexdigest())


@dataclass(frozen=True)
class Candidate:
    """The base model as a run would open it, known before it is opened, so that choose opens
    one model once: the base, or what was taught on it, or the base with its embedding."""

    name: str
    path: Path
    delegate: str
    threads: int
    lanes: int  # batch: interpreters side by side
    open: Callable[[], list[Classifier]]  # the base's lanes, opened only if they are what runs

    @classmethod
    def opened(cls, lanes: Sequence[Classifier]) -> Candidate:
        """Lanes open already (a region's model, shared with others)."""
        info = lanes[0].info
        return cls(info.name, info.path, info.delegate, info.threads, len(lanes), lambda: list(lanes))


@dataclass(frozen=True)
class Chosen:
    lanes: list[Classifier]  # what the pipeline runs
    base: Base | None  # None: teaching is impossible with this model (see why_not)
    taught: TaughtModel | None  # the taught model in use, if any
    teachable: bool  # the live model gives embeddings: the teach API can run
    why_not: str = ""


def taught_name(base: Base) -> str:
    return f"taught on {base.name}"


def live_model(model: bytes, name: str, options: ModelOptions) -> Classifier:
    """`model` as the live pipeline runs it when teaching: its pooled embedding as a second output."""
    from edge_app.train import dual_output_model

    return Classifier.from_bytes(dual_output_model(model), name, options)


def _taught_for(store: ExampleStore, base: Base) -> TaughtModel | None:
    taught = store.load_model()
    if taught is None:
        return None
    if taught.note.get("base_sha256") != base.sha256:
        log.info(
            "the taught model in %s was made on %s, not on %s: running %s (POST /api/teach/train to teach this one)",
            store.model_path,
            taught.note.get("base", "another model"),
            base.name,
            base.name,
        )
        return None
    return taught


def choose(model: Candidate | Sequence[Classifier], store: ExampleStore, options: ModelOptions, live: bool) -> Chosen:
    """The taught model when the state dir has one made on this base; in real time also the
    embedding as a second output. Anything that rules teaching out is said once and the base runs.
    Only the model that runs is opened."""
    base_model = model if isinstance(model, Candidate) else Candidate.opened(model)
    if base_model.delegate != "cpu":
        return Chosen(
            base_model.open(),
            None,
            None,
            False,
            "teaching runs on the CPU model; with the Edge TPU it is off (--delegate cpu to teach)",
        )
    if not live and not store.model_path.is_file():  # nothing taught to run: leave the base alone
        return Chosen(base_model.open(), None, None, False, "teaching needs real-time mode")
    base = Base.read(base_model.name, base_model.path)
    taught = _taught_for(store, base)
    if not live:
        if taught is not None:
            threads = base_model.threads
            classifier = _loaded(
                store,
                lambda: Classifier.from_bytes(taught.data, taught_name(base), replace(options, threads=threads)),
            )
            if classifier is not None:
                _using(taught, store, base)
                clones = [classifier.clone(threads) for _ in range(base_model.lanes - 1)]
                return Chosen([classifier, *clones], base, taught, False, "teaching needs real-time mode")
        return Chosen(base_model.open(), base, None, False, "teaching needs real-time mode")
    if taught is not None:
        dual = _loaded(store, lambda: live_model(taught.data, taught_name(base), options))
        if dual is not None:
            _using(taught, store, base)
            return Chosen([dual], base, taught, True)
    try:
        return Chosen([live_model(base.data, base.name, options)], base, None, True)
    except EdgeAppError as exc:
        return Chosen(base_model.open(), None, None, False, f"{base.name} cannot be taught: {exc.message}")


def _using(taught: TaughtModel, store: ExampleStore, base: Base) -> None:
    log.info(
        "using the model taught from the live view (%s) from %s; POST /api/teach/reset goes back to %s",
        ", ".join(taught.labels),
        store.model_path,
        base.name,
    )


def _loaded(store: ExampleStore, load: Callable[[], Classifier]) -> Classifier | None:
    """The taught model as `load` opens it; one that does not load (a flatbuffer damaged inside an
    intact zip) is set aside with one line, and None: the base runs, and teaching stays on."""
    try:
        return load()
    except EdgeAppError as exc:
        store.set_aside(f"it does not load: {exc.message}")
        return None
