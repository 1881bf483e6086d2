"""Several models side by side on one dataset: size, make-up, accuracy and speed.

The dataset is scanned once; each model is then evaluated with the same runner as `eval`
(on lanes, see runner) and its invoke latency timed with `edge_app.model.bench` on one
interpreter with the usual threads, as `edge-app bench` reports it. With an Edge TPU attached, each model also gets an
Edge TPU row (its `_edgetpu` twin), unless the user asked for one delegate only. A model that cannot
be had (unknown, not downloadable, not a valid model) is a row with its error, and the rest are
compared all the same.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from edge_app.atomic import atomic_open
from edge_app.errors import EdgeAppError, Interrupted
from edge_app.evaluate.dataset import Listing
from edge_app.evaluate.evaluation import Evaluation, evaluate
from edge_app.evaluate.modelfacts import ModelFacts, facts
from edge_app.model import catalog
from edge_app.model.bench import BenchResult, invoke_times, summarize
from edge_app.model.classifier import Classifier, ModelOptions, make_interpreter
from edge_app.model.delegate import find_edgetpu_devices
from edge_app.model.lanes import cores, open_lanes
from edge_app.model.runtime import load_runtime
from edge_app.progress import Progress


@dataclass(frozen=True)
class Timing:
    runs: int = 100  # timed invokes per row
    warmup: int = 10
    workers: int | None = None  # eval threads; None = one per core
    lanes: int | None = None  # eval interpreters side by side; None = see edge_app.model.lanes


@dataclass(frozen=True)
class Row:
    model: str
    delegate: str
    size_bytes: int
    params: int | None
    input: str
    quantization: str
    n: int
    top1: float | None
    top5: float | None
    top1_correct: int
    top5_correct: int
    p50_ms: float
    p90_ms: float
    fps: float
    images_per_s: float  # end to end in the eval run: decode, prepare, invoke
    path: str
    error: str = ""  # why this model could not be measured; its numbers are then empty

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def failed(cls, model: str, delegate: str, error: str) -> Row:
        return cls(model, delegate, 0, None, "", "", 0, None, None, 0, 0, 0.0, 0.0, 0.0, 0.0, "", error)


def plan(models: list[str], delegate: str, coral_attached: bool) -> list[tuple[str, str]]:
    """(model, delegate) rows: `auto` is every model on the CPU, and on the Edge TPU too when one is attached."""
    delegates = {"cpu": ["cpu"], "edgetpu": ["edgetpu"], "auto": ["cpu", "edgetpu"] if coral_attached else ["cpu"]}[
        delegate
    ]
    return [(model, d) for model in models for d in delegates]


def make_row(classifier: Classifier, evaluation: Evaluation, facts: ModelFacts, bench: BenchResult) -> Row:
    info = classifier.info
    m = evaluation.metrics
    return Row(
        model=info.name,
        delegate=info.delegate,
        size_bytes=info.path.stat().st_size,
        params=facts.params,
        input=f"{info.input.width}x{info.input.height}",
        quantization=facts.quantization,
        n=m.n,
        top1=round(m.top1, 6) if m.n else None,
        top5=round(m.topk, 6) if m.n else None,
        top1_correct=m.top1_correct,
        top5_correct=m.topk_correct,
        p50_ms=bench.p50_ms,
        p90_ms=bench.p90_ms,
        fps=round(1000.0 / bench.p50_ms, 1) if bench.p50_ms > 0 else 0.0,
        images_per_s=round(evaluation.predictions.images_per_s, 1),
        path=str(info.path),
    )


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.0f} kB"


def _params(n: int | None) -> str:
    return "-" if n is None else f"{n / 1e6:.2f} M"


def _pct(value: float | None, correct: int, n: int) -> str:
    return "-" if value is None else f"{value:.1%} ({correct}/{n})"


LEFT = {"model", "delegate", "quantization", "error"}  # text columns; numbers are right-aligned
COLUMNS: list[tuple[str, Callable[[Row], str]]] = [
    ("model", lambda r: r.model),
    ("delegate", lambda r: r.delegate),
    ("size", lambda r: _size(r.size_bytes)),
    ("params", lambda r: _params(r.params)),
    ("input", lambda r: r.input),
    ("quantization", lambda r: r.quantization),
    ("top-1", lambda r: _pct(r.top1, r.top1_correct, r.n)),
    ("top-5", lambda r: _pct(r.top5, r.top5_correct, r.n)),
    ("p50 ms", lambda r: f"{r.p50_ms:.2f}"),
    ("p90 ms", lambda r: f"{r.p90_ms:.2f}"),
    ("FPS", lambda r: f"{r.fps:.0f}"),
]


def _cells(rows: list[Row]) -> tuple[list[str], list[list[str]]]:
    """Header and cells; a failed row shows "-" for its numbers, and its error in a last column
    that appears only when some row failed."""
    columns = COLUMNS + ([("error", lambda r: r.error)] if any(r.error for r in rows) else [])
    named = {"model", "delegate", "error"}
    return [name for name, _ in columns], [
        [cell(r) if name in named or not r.error else "-" for name, cell in columns] for r in rows
    ]


def format_table(rows: list[Row]) -> str:
    header, body = _cells(rows)
    widths = [
        len(name) if name == "error" else max(map(len, column)) for name, column in zip(header, zip(header, *body))
    ]  # an error runs on

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.ljust(w) if name in LEFT else c.rjust(w) for c, w, name in zip(cells, widths, header)
        ).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(r) for r in body)])


def format_markdown(rows: list[Row]) -> str:
    header, body = _cells(rows)
    aligns = ["---" if name in LEFT else "---:" for name in header]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in [header, aligns, *body]) + "\n"


def write_csv(rows: list[Row], path: Path) -> None:
    """Raw numbers, one column per field, for spreadsheets and scripts."""
    fields = list(Row.__dataclass_fields__)
    with atomic_open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(r.as_dict() for r in rows)


def _cpu_facts(spec: str, runtime: str) -> ModelFacts:
    """An Edge TPU build hides its layers in one custom op: count the CPU model instead."""
    path, _ = catalog.resolve(spec)
    return facts(make_interpreter(load_runtime(runtime), path, 1, None))


def measure(spec: str, delegate: str, base: ModelOptions, listing: Listing, timing: Timing) -> Row:
    """Evaluate one model on one delegate (on lanes), then time its invoke as `edge-app bench` does."""
    options = replace(base, model=spec, delegate=delegate)
    lanes = open_lanes(options, timing.lanes)
    with Progress(None, f"{lanes[0].info.name} ({lanes[0].info.delegate})") as progress:
        evaluation = evaluate(lanes, listing, timing.workers, progress)
    classifier = lanes[0]
    if classifier.info.delegate == "cpu" and (len(lanes) > 1 or classifier.info.threads != (base.threads or cores())):
        del lanes  # free the lanes first; time the model as `edge-app bench` runs it
        classifier = classifier.clone(base.threads or cores())
    bench = summarize(classifier, invoke_times(classifier, timing.runs, timing.warmup))
    model_facts = facts(classifier.interpreter) if classifier.info.delegate == "cpu" else _cpu_facts(spec, base.runtime)
    return make_row(classifier, evaluation, model_facts, bench)


def compare(
    models: list[str],
    base: ModelOptions,
    listing: Listing,
    timing: Timing,
    warn: Callable[[str], None],
) -> list[Row]:
    """One row per (model, delegate); a model that fails is a row with its error. In `auto` mode
    a model without an Edge TPU build only loses its Edge TPU row."""
    mode = base.delegate or "auto"
    rows: list[Row] = []
    planned = plan(models, mode, bool(find_edgetpu_devices()))
    for done, (spec, delegate) in enumerate(planned):
        try:
            rows.append(measure(spec, delegate, base, listing, timing))
        except (KeyboardInterrupt, Interrupted) as exc:
            raise Interrupted(done, len(planned), "models") from exc
        except EdgeAppError as exc:
            if mode == "auto" and delegate != "cpu":
                warn(f"no Edge TPU row for {spec}: {exc}")
            else:
                rows.append(Row.failed(spec, delegate, str(exc)))
    return rows


def default_models(catalog_entries: dict[str, catalog.ModelEntry] | None = None) -> list[str]:
    """The catalog's ImageNet classifiers: the natural set to compare on ImageNet photos."""
    entries = catalog_entries or catalog.load_catalog()
    return [name for name, entry in entries.items() if "imagenet" in entry.labels]
