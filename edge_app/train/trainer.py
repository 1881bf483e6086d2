"""`edge-app train` from start to end: photos in, one .tflite out.

1. Check everything that can be checked cheaply (classes, photos per class, the output path, the
   base model's head) before the long work.
2. Embed every photo (and its augmented views) with the frozen backbone; cached by content.
3. Split off a seeded, stratified validation set (or take --val), search the head's
   regularisation by cross-validation on the training split, fit the head.
4. With --fine-tune N, also train the top N blocks (finetune.py, JAX), one trial or a grid or
   random search of them (hparams.py); the best trial is requantized and kept only if
   validation says it beats the head alone.
5. Refit the chosen head on every photo of DATA and write the classifier atomically.

Validation figures are those of the written model's integer arithmetic (tail.py) with the head
trained on the training split; the file written is then refit on all of DATA with the same
settings (with --val, DATA is all training data already, and the file is the validated model).
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edge_app.atomic import atomic_write_bytes
from edge_app.errors import EdgeAppError, Interrupted, warn
from edge_app.evaluate.dataset import NO_FOLDER, Listing, require_images, scan
from edge_app.evaluate.evaluation import Evaluation
from edge_app.model import catalog
from edge_app.model.labels import breaks_label_file
from edge_app.model.lanes import cores
from edge_app.progress import Progress
from edge_app.train import surgery
from edge_app.train.augment import View, views
from edge_app.train.cache import EmbeddingCache, default_root
from edge_app.train.embed import Backbone, Embeddings, embed, extractor_file, open_backbone
from edge_app.train.finetune import FineTuned, Program, TrialParams, TuneData, calibrated_ranges
from edge_app.train.head import Head, HeadOptions, fit_head, log_loss
from edge_app.train.hparams import Space, trials
from edge_app.train.output import check_reads_back, check_writable
from edge_app.train.pruning import MedianStop
from edge_app.train.search import GRID, Search, folds_for, search_l2
from edge_app.train.split import Split, stratified_split
from edge_app.train.surgery import POOLED, Retrained, cut_name
from edge_app.train.tail import Tail
from edge_app.train.validation import validation_evaluation


@dataclass(frozen=True)
class TrainOptions:
    data: Path
    out: Path
    base: str | None = None  # catalog name or .tflite path; None = the catalog's default
    val_split: float = 0.2
    val: Path | None = None  # a separate validation set instead of a split
    augment: bool = True
    fine_tune: int = 0  # blocks to train besides the head (0: the head only)
    search: str | None = None  # None | "grid" | "random": fine-tuning trials
    trials: int = 8
    prune: bool = True  # a search stops trials the median rule (pruning.py) judges losing
    keep_best_on_interrupt: bool = False
    seed: int = 0
    cache: Path | None = None  # embedding cache root; None = default_root()
    workers: int | None = None


@dataclass(frozen=True)
class Photos:
    listing: Listing
    paths: list[Path]
    labels: np.ndarray  # class index per photo
    classes: list[str]  # what the indices name
    not_in_class: int = 0  # images outside any class folder, skipped


@dataclass(frozen=True)
class Candidate:
    """A head (and maybe a block) trained on the training split, scored on validation."""

    name: str  # "head only" | "fine-tuned"
    head: Head
    block: Retrained | None
    model: bytes
    val_scores: np.ndarray
    top1: float
    loss: float
    pooled: np.ndarray  # (photos, views, dim) embeddings of DATA's readable photos through its block: the refit's input


@dataclass
class TrainResult:
    options: TrainOptions
    base: str
    base_scheme: str
    classes: list[str]
    photos: np.ndarray  # per class, readable photos of DATA
    train_count: np.ndarray  # per class
    val_count: np.ndarray
    views: list[View]
    search: Search
    trials: list[FineTuned]  # fine-tuning runs, in the order they ran
    best_trial: FineTuned | None
    interrupted: bool  # Ctrl-C during the trials, the best so far kept
    candidates: list[Candidate]
    chosen: Candidate
    validation: Evaluation
    pictures: dict[str, Path]  # kind -> the PNG beside the model (pictures.KINDS)
    refit_photos: int  # photos the written head was trained on
    size: int  # bytes written
    unreadable: list[str]
    skipped: dict[str, int]  # non-image files, images outside class folders
    backbone_runs: int  # photo views that went through the backbone; the others came from the cache
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def n_train(self) -> int:
        return int(self.train_count.sum())

    @property
    def n_val(self) -> int:
        return int(self.val_count.sum())

    def per_class(self) -> list[tuple[str, int, int, int]]:
        """(class, photos, train, val) in output order."""
        return [
            (name, int(self.photos[i]), int(self.train_count[i]), int(self.val_count[i]))
            for i, name in enumerate(self.classes)
        ]


class Stopwatch:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start


# --- checks before the long work --------------------------------------------------------------


def read_photos(data: Path, classes: list[str] | None = None) -> Photos:
    """DATA's labelled photos; `classes` given (validation data), every label must be one of them."""
    listing = require_images(scan(data))
    entries = [e for e in listing.entries if e.label != NO_FOLDER]
    names = classes or sorted({e.label for e in entries})
    _check_names(data, names)
    if classes is not None:
        unknown = sorted({e.label for e in entries} - set(classes))
        if unknown:
            raise EdgeAppError(
                f"validation data {data} has classes that DATA does not: {', '.join(unknown[:5])}",
                "validate on the classes you train",
            )
    index = {name: i for i, name in enumerate(names)}
    return Photos(
        listing,
        [e.path for e in entries],
        np.array([index[e.label] for e in entries], np.int64),
        names,
        len(listing.entries) - len(entries),
    )


def _check_names(data: Path, names: list[str]) -> None:
    """Each class name becomes one line of the model's label file: a folder name with a line
    break or control character would not read back, so it is refused before any work."""
    bad = next((name for name in names if breaks_label_file(name)), None)
    if bad is not None:
        raise EdgeAppError(
            f"class folder {str(data / bad)!r} has a line break or control character in its name",
            "rename it: a class name is one line of the model's label file",
        )


def check_classes(data: Path, labels: np.ndarray, names: list[str], fraction: float | None, after: str = "") -> None:
    """At least two classes among `labels` (photos of `data`), and enough photos in each for the
    split (`fraction` None: --val is used)."""
    counts = np.bincount(labels, minlength=len(names))
    present = [name for name, count in zip(names, counts) if count]
    if len(present) < 2:
        found = f"only {len(present)} class ({present[0]!r})" if present else "no class"
        raise EdgeAppError(
            f"{data} has {found}{after}; training needs at least 2",
            "put each class's photos in a folder of their own (DATA/<class>/*.jpg)",
        )
    need = 2 if fraction is not None else 1
    short = [(name, int(count)) for name, count in zip(names, counts) if count < need]
    if short:
        listed = ", ".join(f"{name!r} ({count})" for name, count in short[:5])
        raise EdgeAppError(
            f"too few photos for the validation split{after}: {listed}; each class needs at least {need} (one "
            "to train on, one to validate)",
            "add photos to those classes, or give a separate validation set with --val",
        )


def resolve_base(spec: str | None) -> tuple[str, bytes]:
    path, entry = catalog.resolve(spec)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise EdgeAppError(f"cannot read base model {path} ({exc.strerror or exc})", "check its permissions") from None
    return entry.name if entry else path.name, data


# --- the long work ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Base:
    """The base model, checked: its name, bytes, object tree and head."""

    name: str
    data: bytes
    model: Any
    site: surgery.HeadSite
    digest: str

    @classmethod
    def open(cls, spec: str | None, blocks: int) -> _Base:
        name, data = resolve_base(spec)
        model = surgery.load(data, name)
        site = surgery.find_head(model, name)
        if blocks:
            surgery.top_part(model, site, blocks)  # "nothing (or not that much) to fine-tune", before the long work
        return cls(name, data, model, site, hashlib.sha256(data).hexdigest())


@dataclass(frozen=True)
class _Backbones:
    backbone: Backbone
    cache: EmbeddingCache
    workers: int | None

    def embed(self, photos: Photos, chosen: list[View], label: str) -> Embeddings:
        with Progress(len(photos.paths), label) as progress:
            return embed(self.backbone, photos.paths, chosen, self.cache, self.workers, progress.advance)


def _open(base: _Base, layers: tuple[str, ...], options: TrainOptions, stack: ExitStack) -> _Backbones:
    """The backbone and its cache; without a writable cache, a temporary folder holds the extractor."""
    root = options.cache or default_root()
    try:
        extractor = extractor_file(base.data, base.digest, layers, root / "extractors")
        folder: Path | None = root / base.digest[:16]
    except OSError as exc:
        warn(f"cannot use the embedding cache {root} ({exc.strerror or exc}); going on without it")
        extractor = extractor_file(
            base.data,
            base.digest,
            layers,
            Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="edge-app-train-"))),
        )
        folder = None
    backbone = open_backbone(extractor, layers)
    return _Backbones(
        backbone, EmbeddingCache(folder / backbone.prep_id if folder else None, backbone.shapes()), options.workers
    )


@dataclass(frozen=True)
class _Sets:
    """The embeddings as training and validation rows (raw integers, layer -> array)."""

    values: dict[str, np.ndarray]  # readable photos of DATA: (photos, views, ...)
    labels: np.ndarray  # class per readable photo of DATA
    split: Split  # rows of `values`; with --val, all of them train
    val: dict[str, np.ndarray]  # (n_val, ...): original view only
    val_y: np.ndarray
    val_paths: list[Path]

    @property
    def y_train(self) -> np.ndarray:
        return self.labels[self.split.train]


def _sets(
    data: Photos,
    emb: Embeddings,
    val_photos: Photos | None,
    val_emb: Embeddings | None,
    options: TrainOptions,
    names: list[str],
) -> _Sets:
    ok = np.flatnonzero(emb.ok)
    labels = data.labels[ok]
    after = f" after skipping {len(emb.failed)} unreadable photo(s)" if emb.failed else ""
    check_classes(data.listing.data, labels, names, None if val_photos else options.val_split, after)
    values = {name: v[ok] for name, v in emb.values.items()}
    if val_photos is None or val_emb is None:
        split = stratified_split(labels, options.val_split, options.seed)
        val = {name: v[split.val, 0] for name, v in values.items()}
        return _Sets(values, labels, split, val, labels[split.val], [data.paths[ok[i]] for i in split.val])
    val_ok = np.flatnonzero(val_emb.ok)
    if not len(val_ok):
        raise EdgeAppError(
            f"none of the photos in {options.val} could be read",
            "check the files: " + next(iter(val_emb.failed.values()), ""),
        )
    val = {name: v[val_ok, 0] for name, v in val_emb.values.items()}
    split = Split(np.arange(len(ok)), np.arange(0))
    return _Sets(values, labels, split, val, val_photos.labels[val_ok], [val_photos.paths[i] for i in val_ok])


@dataclass(frozen=True)
class _Val:
    """The validation photos as a candidate sees them."""

    start: str  # the layer its tail starts from
    raw: np.ndarray  # (n, ...) raw tensors of that layer
    pooled: np.ndarray  # (n, dim) float embeddings, for the head's log-loss
    y: np.ndarray


def _candidate(
    name: str, base: bytes, head: Head, block: Retrained | None, names: list[str], val: _Val, pooled: np.ndarray
) -> Candidate:
    """The written model's exact top-1 on validation; its float log-loss breaks ties."""
    model = surgery.classifier_model(base, head, names, block)
    scores = Tail(model, val.start).scores(val.raw)
    top1 = float(np.mean(np.argmax(scores, axis=1) == val.y))
    return Candidate(name, head, block, model, scores, top1, log_loss(head.logits(val.pooled), val.y), pooled)


def _fit(pooled: np.ndarray, rows: np.ndarray, labels: np.ndarray, classes: int, options: HeadOptions) -> Head:
    """A head on every view of the given photos."""
    x = pooled[rows]
    return fit_head(x.reshape(-1, x.shape[-1]), np.repeat(labels, x.shape[1]), classes, options)


@dataclass(frozen=True)
class _Tuning:
    """What fine-tuning needs besides the embeddings."""

    base: _Base
    backbone: Backbone
    names: list[str]
    head: Head  # the head-only head, where the joint training starts
    head_options: HeadOptions
    seed: int

    def layer(self, blocks: int) -> Any:
        return next(layer for layer in self.backbone.layers if layer.name == cut_name(blocks))


def _program(tuning: _Tuning, programs: dict[int, Program], blocks: int) -> Program:
    """One compiled program per part size, built when a trial first needs it."""
    if blocks not in programs:
        part = surgery.top_part(tuning.base.model, tuning.base.site, blocks)
        layer = tuning.layer(blocks)
        programs[blocks] = Program(part, surgery.read_part(tuning.base.model, part), layer.quant, layer.shape)
    return programs[blocks]


def _run_trials(
    tuning: _Tuning, sets: _Sets, plan: list[TrialParams], options: TrainOptions
) -> tuple[list[FineTuned], dict[int, Program], bool]:
    """Every trial of the plan on the training split, judged on validation (float, best epoch),
    the losing ones stopped by the median rule unless `options.prune` is off.
    Ctrl-C: the trials done so far with --keep-best-on-interrupt, else Interrupted (nothing is written)."""
    programs: dict[int, Program] = {}
    done: list[FineTuned] = []
    rule = MedianStop() if options.prune else None
    with Progress(sum(p.epochs for p in plan), "train: fine-tuning, epochs (early stopping skips some)") as progress:
        try:
            for number, params in enumerate(plan):
                program = _program(tuning, programs, params.blocks)
                name = cut_name(params.blocks)
                data = TuneData(
                    sets.values[name][sets.split.train],
                    sets.y_train,
                    sets.val[name],
                    sets.val_y,
                    tuning.layer(params.blocks).quant,
                )
                seed = tuning.seed * 1000 + number
                stops = rule.stops if rule else None
                trial = program.train(data, tuning.head, params, seed, on_epoch=progress.advance, prune=stops)
                if rule:
                    rule.finished([e.val_loss for e in trial.curves])
                done.append(trial)
        except KeyboardInterrupt as exc:
            if not options.keep_best_on_interrupt:
                raise Interrupted(len(done), len(plan), "trials") from exc
            warn(f"interrupted after {len(done)} of {len(plan)} trials; going on with the best so far")
            return done, programs, True
    return done, programs, False


def _best(done: list[FineTuned]) -> FineTuned:
    """The best validation top-1, then the lowest validation loss; the earlier trial on a tie."""
    return max(reversed(done), key=lambda t: (t.val_top1, -t.val_loss))


def _fine_tuned(tuning: _Tuning, sets: _Sets, program: Program, trial: FineTuned) -> Candidate:
    """Requantize the trial's part (ranges calibrated on every view of the training photos),
    recompute every embedding through it exactly, refit the head on them, score on validation."""
    name = cut_name(trial.params.blocks)
    raw = sets.values[name]
    photos, per_photo = raw.shape[:2]
    train_raw = raw[sets.split.train].reshape(-1, *raw.shape[2:])
    ranges = calibrated_ranges(program.part, program.output_ranges(trial.weights, train_raw))
    retrained = Retrained(trial.params.blocks, tuple(trial.weights), ranges)
    pooled_layer = tuning.backbone.layers[0]
    through = Tail(surgery.classifier_model(tuning.base.data, tuning.head, tuning.names, retrained), name, POOLED)
    pooled = pooled_layer.dequantize(through.raw(raw.reshape(-1, *raw.shape[2:])).reshape(photos, per_photo, -1))
    head = _fit(pooled, sets.split.train, sets.y_train, len(tuning.names), tuning.head_options)
    val_pooled = pooled_layer.dequantize(through.raw(sets.val[name]).reshape(len(sets.val_y), -1))
    return _candidate(
        "fine-tuned",
        tuning.base.data,
        head,
        retrained,
        tuning.names,
        _Val(name, sets.val[name], val_pooled, sets.val_y),
        pooled,
    )


def _plan(options: TrainOptions, augmented: int) -> list[TrialParams]:
    if options.search is None:
        return [TrialParams(blocks=options.fine_tune, augment=augmented)]
    return trials(options.search, options.trials, Space(options.fine_tune, augmented), options.seed)


def _prefer(candidates: list[Candidate]) -> Candidate:
    """Fine-tuning is kept only when validation says it is no worse: top-1, then log-loss."""
    return max(reversed(candidates), key=lambda c: (c.top1, -c.loss))


def train(options: TrainOptions) -> TrainResult:
    watch = Stopwatch()
    with watch.stage("check"):
        if options.val is None and not 0.0 < options.val_split < 1.0:
            raise EdgeAppError(f"bad --val-split {options.val_split}", "use a fraction between 0 and 1, e.g. 0.2")
        if options.search is not None and options.fine_tune < 1:
            raise EdgeAppError(
                "--search tunes fine-tuning, and --fine-tune is 0",
                "give --fine-tune N (N >= 1: the most blocks a trial may train)",
            )
        plan = _plan(options, len(views(options.augment)) - 1)
        if options.fine_tune:
            from edge_app.train.finetune import require_jax

            require_jax()
        check_writable(options.out)
        data = read_photos(options.data)
        names = data.classes
        check_classes(data.listing.data, data.labels, names, None if options.val else options.val_split)
        val_photos = read_photos(options.val, names) if options.val else None
        base = _Base.open(options.base, options.fine_tune)
    layers = (POOLED, *sorted({cut_name(p.blocks) for p in plan})) if options.fine_tune else (POOLED,)
    chosen_views = views(options.augment, options.seed)
    with ExitStack() as stack, watch.stage("embed"):
        opened = _open(base, layers, options, stack)
        emb = opened.embed(data, chosen_views, f"train: embedding {len(data.paths)} photos")
        val_emb = (
            opened.embed(val_photos, chosen_views[:1], "train: embedding validation photos") if val_photos else None
        )
        if opened.cache.problem:
            warn(opened.cache.problem)
    unreadable = [why for e in (emb, val_emb) if e for _, why in sorted(e.failed.items())]
    sets = _sets(data, emb, val_photos, val_emb, options, names)
    pooled_layer = opened.backbone.layers[0]
    classes = len(names)

    with watch.stage("search"):
        pooled = pooled_layer.dequantize(sets.values[POOLED])
        with Progress(
            folds_for(sets.y_train, classes) * len(GRID), "train: searching the head's regularisation, fits"
        ) as progress:
            search = search_l2(
                pooled[sets.split.train], sets.y_train, classes, options.seed, on_fit=progress.advance, workers=cores()
            )
    with watch.stage("fit"):
        head_options = HeadOptions(l2=search.chosen)
        head = _fit(pooled, sets.split.train, sets.y_train, classes, head_options)
        val = _Val(POOLED, sets.val[POOLED], pooled_layer.dequantize(sets.val[POOLED]), sets.val_y)
        candidates = [_candidate("head only", base.data, head, None, names, val, pooled)]
    done: list[FineTuned] = []
    best: FineTuned | None = None
    interrupted = False
    if options.fine_tune:
        with watch.stage("fine-tune"):
            tuning = _Tuning(base, opened.backbone, names, head, head_options, options.seed)
            done, programs, interrupted = _run_trials(tuning, sets, plan, options)
            if done:
                best = _best(done)
                candidates.append(_fine_tuned(tuning, sets, programs[best.params.blocks], best))
    chosen = _prefer(candidates)

    with watch.stage("write"):
        written, refit = chosen.model, len(sets.split.train)
        if options.val is None:  # validated on a split of DATA: the written head learns from every photo of it
            everything = np.arange(len(sets.labels))
            final = _fit(chosen.pooled, everything, sets.labels, classes, head_options)
            written, refit = surgery.classifier_model(base.data, final, names, chosen.block), len(everything)
        check_reads_back(written, names)
        atomic_write_bytes(options.out, written)
    form = "validation photos" if options.val else "validation split"
    validation = validation_evaluation(
        f"{options.out.name} ({chosen.name})",
        names,
        sets.val_paths,
        sets.val_y,
        chosen.val_scores,
        options.val or options.data,
        form,
    )
    with watch.stage("pictures"):
        from edge_app.train.pictures import write_beside

        pictures = write_beside(options.out, validation, best)
    return TrainResult(
        options=options,
        base=base.name,
        base_scheme=surgery.scheme(base.model, base.site).name,
        classes=names,
        photos=np.bincount(sets.labels, minlength=classes),
        train_count=np.bincount(sets.y_train, minlength=classes),
        val_count=np.bincount(sets.val_y, minlength=classes),
        views=chosen_views,
        search=search,
        trials=done,
        best_trial=best,
        interrupted=interrupted,
        candidates=candidates,
        chosen=chosen,
        validation=validation,
        pictures=pictures,
        refit_photos=refit,
        size=len(written),
        unreadable=unreadable,
        skipped={"non_image": data.listing.non_image, "not_in_class_folder": data.not_in_class},
        backbone_runs=emb.computed + (val_emb.computed if val_emb else 0),
        seconds=watch.seconds,
    )
