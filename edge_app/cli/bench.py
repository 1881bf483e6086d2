"""`edge-app bench`: how fast the model runs here."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from edge_app.cli import options as opt
from edge_app.errors import warn
from edge_app.words import plural


def bench(
    model: opt.Model = None,
    runtime: opt.RuntimeName = "auto",
    delegate: opt.Delegate = None,
    device: opt.Device = None,
    threads: opt.Threads = None,
    runs: Annotated[int, typer.Option("--runs", "-n", min=1, help="Timed invokes after the warm-up.")] = 200,
    warmup: Annotated[int, typer.Option("--warmup", min=0, help="Untimed invokes first.")] = 10,
    as_json: opt.Json = False,
) -> None:
    """Measure invoke latency (p50/p90/p99) after a warm-up."""
    from edge_app.model.bench import invoke_times, summarize
    from edge_app.model.classifier import Classifier, ModelOptions
    from edge_app.model.lanes import cores

    if threads and threads > cores():
        warn(
            f"--threads {threads} is more than the {plural(cores(), 'core')} here: the extra threads only wait "
            "for a core, and the timing suffers"
        )
    classifier = Classifier.open(
        ModelOptions(model=model, runtime=runtime, delegate=delegate, device=device, threads=threads)
    )
    result = summarize(classifier, invoke_times(classifier, runs, warmup))
    if as_json:
        print(json.dumps(result.as_dict(), indent=2))
        return
    print(
        f"{result.model} on {result.runtime}, {result.delegate}, {plural(result.threads, 'thread')}, "
        f"{result.runs} runs: "
        f"p50 {result.p50_ms:.2f} ms  p90 {result.p90_ms:.2f} ms  p99 {result.p99_ms:.2f} ms  "
        f"({1000.0 / result.p50_ms:.0f} inferences/s)"
    )


def register(app: typer.Typer) -> None:
    app.command()(bench)
