"""Several models side by side on one dataset: size, make-up, accuracy and speed.

The dataset is scanned once; each model is then evaluated with the same runner as `eval`
(on lanes, see runner). Latency is timed afterwards on one interpreter per model with the usual
threads, as `edge-app bench` runs it, in interleaved rounds: each round times every model in
turn, so a busy moment of the machine slows them all alike instead of flipping the ranking. The
median is reported with its spread between rounds, and a large spread is warned about. With an
Edge TPU attached, each model also gets an Edge TPU row (its `_edgetpu` twin), unless the user
asked for one delegate only. A model that cannot be had (unknown, not downloadable, not a valid
model) is a row with its error, and the rest are compared all the same.
"""

from __future__ import annotations

import csv
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

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

SPREAD_WARNING = 0.25  # round medians further apart than this share of the median: a shaky ranking


@dataclass(frozen=True)
class Timing:
    runs: int = 100  # timed invokes per row, spread over the rounds
    warmup: int = 10
    rounds: int = 10
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
    macs: int | None = None  # multiply-accumulates per frame, from the graph
    spread: float = 0.0  # how far apart the timing rounds' medians were, as a share of the median

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def failed(cls, model: str, delegate: str, error: str) -> Row:
        return cls(model, delegate, 0, None, "", "", 0, None, None, 0, 0, 0.0, 0.0, 0.0, 0.0, "", error)


@dataclass(frozen=True)
class Latency:
    p50_ms: float
    p90_ms: float
    spread: float
    steady_rounds: bool  # each round's median had enough invokes to be worth comparing


MIN_PER_ROUND = 5


def interleaved(timers: list[Callable[[], float]], runs: int, rounds: int) -> list[Latency]:
    """Time every model in each round, starting each round with the next model, so none is always
    first or last; `runs` invokes per model in all."""
    rounds = max(1, min(rounds, runs))
    per_round = max(1, runs // rounds)
    samples: list[list[float]] = [[] for _ in timers]
    medians: list[list[float]] = [[] for _ in timers]
    for r in range(rounds):
        for k in range(len(timers)):
            index = (r + k) % len(timers)
            times = [timers[index]() for _ in range(per_round)]
            samples[index].extend(times)
            medians[index].append(float(np.median(times)))
    out = []
    for times, per in zip(samples, medians, strict=True):
        p50, p90 = (float(v) for v in np.percentile(times, [50, 90]))
        spread = (max(per) - min(per)) / p50 if p50 > 0 else 0.0
        out.append(Latency(round(p50, 3), round(p90, 3), round(spread, 3), per_round >= MIN_PER_ROUND))
    return out


def plan(models: list[str], delegate: str, coral_attached: bool) -> list[tuple[str, str]]:
    """(model, delegate) rows: `auto` is every model on the CPU, and on the Edge TPU too when one is attached."""
    delegates = {"cpu": ["cpu"], "edgetpu": ["edgetpu"], "auto": ["cpu", "edgetpu"] if coral_attached else ["cpu"]}[
        delegate
    ]
    return [(model, d) for model in models for d in delegates]


def make_row(classifier: Classifier, evaluation: Evaluation, facts: ModelFacts, bench: BenchResult) -> Row:
    """A row with `bench`'s latency (the caller may replace it with interleaved timings)."""
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
        macs=facts.macs,
    )


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.0f} kB"


def _params(n: int | None) -> str:
    return "-" if n is None else f"{n / 1e6:.2f} M"


def _macs(n: int | None) -> str:
    return "-" if n is None else f"{n / 1e6:.0f} M"


def _pct(value: float | None, correct: int, n: int) -> str:
    return "-" if value is None else f"{value:.1%} ({correct}/{n})"


LEFT = {"model", "delegate", "quantization", "error"}  # text columns; numbers are right-aligned
COLUMNS: list[tuple[str, Callable[[Row], str]]] = [
    ("model", lambda r: r.model),
    ("delegate", lambda r: r.delegate),
    ("size", lambda r: _size(r.size_bytes)),
    ("params", lambda r: _params(r.params)),
    ("MACs", lambda r: _macs(r.macs)),
    ("input", lambda r: r.input),
    ("quantization", lambda r: r.quantization),
    ("top-1", lambda r: _pct(r.top1, r.top1_correct, r.n)),
    ("top-5", lambda r: _pct(r.top5, r.top5_correct, r.n)),
    ("p50 ms", lambda r: f"{r.p50_ms:.2f}"),
    ("p90 ms", lambda r: f"{r.p90_ms:.2f}"),
    ("spread", lambda r: f"{r.spread:.0%}"),
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


def terminal_width() -> int | None:
    """The terminal's width when printing to one; None (no limit) when piped into a file or program."""
    return shutil.get_terminal_size().columns if sys.stdout.isatty() else None


def format_table(rows: list[Row], width: int | None = None) -> str:
    """The table, its error column cut to fit `width` columns when given (the whole error is in
    --json and --csv)."""
    header, body = _cells(rows)
    widths = [
        len(name) if name == "error" else max(map(len, column)) for name, column in zip(header, zip(header, *body))
    ]
    if header[-1] == "error" and width is not None:
        room = width - sum(w + 2 for w in widths[:-1])
        room = max(room, 20)
        widths[-1] = max(len("error"), min(room, max(len(r[-1]) for r in body)))
        body = [[*r[:-1], r[-1] if len(r[-1]) <= room else r[-1][: room - 1] + "…"] for r in body]

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
    return facts(make_interpreter(load_runtime(runtime), path, 1, None), path)


@dataclass(frozen=True)
class Measured:
    """A model evaluated for accuracy, with the interpreter its latency will be timed on."""

    row: Row
    classifier: Classifier


def measure(spec: str, delegate: str, base: ModelOptions, listing: Listing, timing: Timing) -> Measured:
    """Evaluate one model on one delegate (on lanes); keep one interpreter as `edge-app bench` runs it."""
    options = replace(base, model=spec, delegate=delegate)
    lanes = open_lanes(options, timing.lanes)
    with Progress(None, f"{lanes[0].info.name} ({lanes[0].info.delegate})") as progress:
        evaluation = evaluate(lanes, listing, timing.workers, progress)
    classifier = lanes[0]
    if classifier.info.delegate == "cpu" and (len(lanes) > 1 or classifier.info.threads != (base.threads or cores())):
        del lanes  # free the lanes first; time the model as `edge-app bench` runs it
        classifier = classifier.clone(base.threads or cores())
    warm = summarize(classifier, invoke_times(classifier, 1, timing.warmup))  # also checks that it runs
    cpu = classifier.info.delegate == "cpu"
    model_facts = facts(classifier.interpreter, classifier.info.path) if cpu else _cpu_facts(spec, base.runtime)
    return Measured(make_row(classifier, evaluation, model_facts, warm), classifier)


def _timer(classifier: Classifier) -> Callable[[], float]:
    invoke, clock = classifier.interpreter.invoke, time.perf_counter

    def once() -> float:
        start = clock()
        invoke()
        return (clock() - start) * 1000.0

    return once


def timed(measured: list[Measured], timing: Timing, warn: Callable[[str], None]) -> list[Row]:
    """The rows with latencies from interleaved rounds, warning where a model's spread is large."""
    latencies = interleaved([_timer(m.classifier) for m in measured], timing.runs, timing.rounds)
    rows = []
    for m, latency in zip(measured, latencies, strict=True):
        fps = round(1000.0 / latency.p50_ms, 1) if latency.p50_ms > 0 else 0.0
        rows.append(replace(m.row, p50_ms=latency.p50_ms, p90_ms=latency.p90_ms, fps=fps, spread=latency.spread))
        if latency.spread > SPREAD_WARNING and latency.steady_rounds and len(measured) > 1:
            warn(
                f"{m.row.model} ({m.row.delegate}): timing rounds differed by {latency.spread:.0%} of the median; "
                "the machine was busy, so the speed ranking may not hold: run again on a quiet machine"
            )
    return rows


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
    results: list[Measured | Row] = []  # in plan order: measured models, and failed rows
    planned = plan(models, mode, bool(find_edgetpu_devices()))
    for done, (spec, delegate) in enumerate(planned):
        try:
            results.append(measure(spec, delegate, base, listing, timing))
        except (KeyboardInterrupt, Interrupted) as exc:
            raise Interrupted(done, len(planned), "models") from exc
        except EdgeAppError as exc:
            if mode == "auto" and delegate != "cpu":
                warn(f"no Edge TPU row for {spec}: {exc}")
            else:
                results.append(Row.failed(spec, delegate, str(exc)))
    measured = [r for r in results if isinstance(r, Measured)]
    try:
        timed_rows = iter(timed(measured, timing, warn))
    except KeyboardInterrupt as exc:
        raise Interrupted(len(planned), len(planned), "models, while timing them") from exc
    return [next(timed_rows) if isinstance(r, Measured) else r for r in results]


def default_models(catalog_entries: dict[str, catalog.ModelEntry] | None = None) -> list[str]:
    """The catalog's ImageNet MobileNets: the natural set to compare on ImageNet photos. The other
    architectures (tens of MB each) are compared by naming them."""
    entries = catalog_entries or catalog.load_catalog()
    return [name for name, entry in entries.items() if "imagenet" in entry.labels and not entry.extra]
