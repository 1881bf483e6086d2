"""`edge-app eval DATA` and `edge-app compare M1 M2 ... --data DATA`: measure models on labelled photos."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from edge_app.cli import options as opt
from edge_app.errors import EdgeAppError, warn
from edge_app.model.options import MAX_THREADS

if TYPE_CHECKING:
    from edge_app.evaluate.compare import Row as cmp_Row

Workers = Annotated[
    int | None,
    typer.Option(
        "--workers",
        min=1,
        max=MAX_THREADS,
        help="Threads decoding photos and running the lanes (default: one per core).",
    ),
]
Threads = Annotated[
    int | None,
    typer.Option(
        "--threads",
        min=1,
        max=MAX_THREADS,
        help="Threads per interpreter (default: every core, shared among the lanes).",
    ),
]
Lanes = Annotated[
    int | None,
    typer.Option(
        "--lanes",
        min=1,
        max=MAX_THREADS,
        help="Interpreters run side by side, sharing every core (default: one per core, or cores / --threads; "
        "one on an Edge TPU).",
    ),
]
DATA_HELP = (
    "A folder of class folders (named by label text or class index) or a CSV manifest with file and "
    "label (or class_index) columns."
)


@contextlib.contextmanager
def _writing(target: Path) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        raise EdgeAppError(f"cannot write {target} ({exc.strerror or exc})", "choose a writable location") from None


def _check_folder(target: Path | None) -> None:
    """Fail before a long run, not after it, when an output file's folder does not exist."""
    if target is not None and not target.parent.is_dir():
        raise EdgeAppError(
            f"cannot write {target}: folder {target.parent} does not exist", "create it or choose another path"
        )


def eval_command(
    data: Annotated[Path, typer.Argument(help=DATA_HELP, show_default=False)],
    model: opt.Model = None,
    labels: opt.Labels = None,
    runtime: opt.RuntimeName = "auto",
    delegate: opt.Delegate = None,
    device: opt.Device = None,
    threads: Threads = None,
    resize: opt.Resize = "crop",
    lanes: Lanes = None,
    workers: Workers = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Folder for confusion.csv/.png, per_class.csv and predictions.csv (default: ./edge-app-eval/MODEL).",
        ),
    ] = None,
    as_json: opt.Json = False,
) -> None:
    """Accuracy (top-1, top-5), per-class precision/recall/F1 and the confusion matrix of a model on labelled photos."""
    from edge_app.evaluate.dataset import require_images, scan
    from edge_app.evaluate.evaluation import evaluate, nothing_measured
    from edge_app.evaluate.report import format_text, write_outputs
    from edge_app.model.classifier import ModelOptions
    from edge_app.model.lanes import open_lanes
    from edge_app.progress import Progress

    listing = require_images(scan(data))
    classifiers = open_lanes(ModelOptions(model, labels, runtime, delegate, device, threads, resize, top_k=5), lanes)
    classifier = classifiers[0]
    with Progress(None, f"eval {classifier.info.name}") as progress:
        evaluation = evaluate(classifiers, listing, workers, progress)
    problem = nothing_measured(evaluation)
    if problem:
        raise problem
    folder = out or Path("edge-app-eval") / classifier.info.name
    with _writing(folder):
        files = write_outputs(evaluation, folder)
    if as_json:
        print(json.dumps({**evaluation.summary(), "files": files}, indent=2))
        return
    print(format_text(evaluation))
    print(f"\nwrote {', '.join(files.values())}")


def compare_command(
    data: Annotated[Path, typer.Option("--data", "-d", help=DATA_HELP, show_default=False)],
    models: Annotated[
        list[str] | None,
        typer.Argument(
            help="Catalog names or .tflite paths (default: the catalog's ImageNet models).", show_default=False
        ),
    ] = None,
    runtime: opt.RuntimeName = "auto",
    delegate: Annotated[
        str | None,
        typer.Option(
            "--delegate",
            help="cpu | edgetpu | auto (default: auto = CPU rows, plus Edge TPU rows when a Coral is attached).",
        ),
    ] = None,
    device: opt.Device = None,
    threads: Threads = None,
    resize: opt.Resize = "crop",
    lanes: Lanes = None,
    workers: Workers = None,
    runs: Annotated[int, typer.Option("--runs", "-n", min=1, help="Timed invokes per model, after the warm-up.")] = 100,
    rounds: Annotated[
        int, typer.Option("--rounds", min=1, help="Timing rounds, each timing every model in turn (interleaved).")
    ] = 10,
    warmup: Annotated[int, typer.Option("--warmup", min=0, help="Untimed invokes first.")] = 10,
    markdown: Annotated[
        Path | None, typer.Option("--markdown", help="Also write the table as Markdown to this file.")
    ] = None,
    csv_file: Annotated[
        Path | None, typer.Option("--csv", help="Also write the raw numbers as CSV to this file.")
    ] = None,
    plot: Annotated[
        Path | None,
        typer.Option("--plot", help="Also draw top-1 against latency (size as marker area) as PNG, and SVG beside it."),
    ] = None,
    as_json: opt.Json = False,
) -> None:
    """Compare models on one dataset: size, parameters, MACs, input, quantization, top-1/top-5, latency, FPS.

    A model that cannot be had or loaded is a row with its error; the rest are compared, and the exit code is then 1.
    """
    from edge_app.atomic import atomic_write_text
    from edge_app.evaluate import compare as cmp
    from edge_app.evaluate.dataset import require_images, scan
    from edge_app.model.classifier import ModelOptions
    from edge_app.model.delegate import DELEGATE_MODES

    if delegate is not None and delegate not in DELEGATE_MODES:
        raise EdgeAppError(f"bad --delegate {delegate!r}", f"use one of: {', '.join(DELEGATE_MODES)}")
    _check_folder(markdown)
    _check_folder(csv_file)
    _check_folder(plot)
    listing = require_images(scan(data))
    base = ModelOptions(runtime=runtime, delegate=delegate, device=device, threads=threads, resize=resize, top_k=5)
    rows = cmp.compare(
        models or cmp.default_models(), base, listing, cmp.Timing(runs, warmup, rounds, workers, lanes), warn
    )
    if markdown:
        with _writing(markdown):
            atomic_write_text(markdown, cmp.format_markdown(rows))
    if csv_file:
        with _writing(csv_file):
            cmp.write_csv(rows, csv_file)
    pictures = (
        _plot_comparison(rows, plot, listing.data.parent.name if listing.data.is_file() else listing.data.name)
        if plot
        else []
    )
    failed = any(row.error for row in rows)
    if as_json:
        print(json.dumps([row.as_dict() for row in rows], indent=2))
    else:
        print(f"{len(listing.entries)} images in {listing.data} ({listing.form}), resize {resize}")
        print(cmp.format_table(rows, cmp.terminal_width()))
        if pictures:
            print(f"wrote {', '.join(pictures)}")
        for row in rows:
            if row.n == 0 and not row.error:
                print(
                    f"note: no image's label is a label of {row.model}: it was not measured for accuracy",
                    file=sys.stderr,
                )
    if failed:
        raise typer.Exit(1)


def _plot_comparison(rows: list[cmp_Row], target: Path, data_name: str) -> list[str]:
    from edge_app import plots

    points = [
        plots.Point(
            r.model if r.delegate == "cpu" else f"{r.model} ({r.delegate})", r.p50_ms, r.top1, r.size_bytes / 1e6
        )
        for r in rows
        if not r.error and r.top1 is not None and r.p50_ms > 0
    ]
    if not points:
        warn("no model was measured for both accuracy and speed, so there is nothing to plot")
        return []
    targets = [target, target.with_suffix(".svg")] if target.suffix.lower() != ".svg" else [target]
    for path in targets:
        with _writing(path):
            plots.comparison(path, points, f"{len(points)} models on {data_name}")
    return [str(path) for path in targets]


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_command)
    app.command("compare")(compare_command)
