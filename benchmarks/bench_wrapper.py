"""`edge-app bench` vs a bare interpreter loop: does the wrapper add anything to invoke latency?

Target (issue 2): the package's bench p50 is within 5 % of a bare `Interpreter(...).invoke()`
loop with the same model and threads. Both are measured in this one run, interleaved in short
blocks whose order rotates every round, so noise from a busy machine hits both alike. A
second bare loop is timed the same way as a control: when it differs from the first by more
than 5 %, the machine was too noisy for the ratio to mean anything.

    python benchmarks/bench_wrapper.py [--model NAME ...] [--threads N] [--runs 10] [--rounds 40]
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

import _common  # noqa: F401  (catalog names resolve to ../shared/models, offline)
import numpy as np

from edge_app.model.bench import invoke_times
from edge_app.model.classifier import Classifier, ModelOptions
from edge_app.model.runtime import load_runtime

MODELS = ("mobilenet_v2_1.0_224_quant", "tf2_mobilenet_v2_1.0_224_ptq")
TARGET = 1.05


def bare_interpreter(path: str, threads: int) -> object:
    """What a user would write with LiteRT alone: load, allocate, set one input."""
    interpreter = load_runtime().Interpreter(model_path=path, num_threads=threads)
    interpreter.allocate_tensors()
    detail = interpreter.get_input_details()[0]
    rng = np.random.default_rng(0)
    interpreter.set_tensor(
        detail["index"], rng.integers(0, 256, detail["shape"], dtype=np.uint8).astype(detail["dtype"])
    )
    return interpreter


def bare_times(interpreter: Any, runs: int, warmup: int) -> np.ndarray:  # a LiteRT Interpreter (untyped)
    for _ in range(warmup):
        interpreter.invoke()
    times = np.empty(runs)
    for i in range(runs):
        start = time.perf_counter()
        interpreter.invoke()
        times[i] = time.perf_counter() - start
    return times * 1000.0


def compare(model: str, threads: int, runs: int, rounds: int, warmup: int) -> dict[str, float]:
    """p50s of the package's bench, a bare loop, and a second bare loop as a noise control."""
    # delegate cpu: the bare loop runs on the CPU; this machine has no Coral anyway
    classifier = Classifier.open(ModelOptions(model=model, delegate="cpu", threads=threads))
    bare = bare_interpreter(str(classifier.info.path), threads)
    control = bare_interpreter(str(classifier.info.path), threads)
    samples: dict[str, list[np.ndarray]] = {"ours": [], "bare": [], "control": []}
    # invoke_times makes one untimed, checked invoke first; the bare loops get the same
    sides = [
        lambda: samples["ours"].append(invoke_times(classifier, runs, 0)),
        lambda: samples["bare"].append(bare_times(bare, runs, 1)),
        lambda: samples["control"].append(bare_times(control, runs, 1)),
    ]
    invoke_times(classifier, 1, warmup)
    bare_times(bare, 1, warmup)
    bare_times(control, 1, warmup)
    for round_ in range(rounds):
        shift = round_ % len(sides)
        for side in sides[shift:] + sides[:shift]:
            side()
    p50 = {name: float(np.median(np.concatenate(times))) for name, times in samples.items()}
    return {**p50, "ratio": p50["ours"] / p50["bare"], "noise": p50["control"] / p50["bare"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", help=f"catalog name or path (default: {', '.join(MODELS)})")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--runs", type=int, default=10, help="timed invokes per side per round")
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=10)
    args = parser.parse_args()
    print(
        f"{args.threads} threads, {args.rounds} interleaved rounds x {args.runs} invokes per side; p50 over all rounds"
    )
    for model in args.model or MODELS:
        r = compare(model, args.threads, args.runs, args.rounds, args.warmup)
        verdict = "ok" if r["ratio"] <= TARGET else "ABOVE TARGET"
        if abs(r["noise"] - 1) > TARGET - 1:
            verdict += "; too noisy to judge, run again on a quieter machine"
        print(
            f"{model:<30} edge-app bench p50 {r['ours']:7.3f} ms  bare invoke p50 {r['bare']:7.3f} ms  "
            f"ratio {r['ratio']:5.3f}  (target <= {TARGET:.2f}: {verdict}; bare-vs-bare control {r['noise']:5.3f})"
        )


if __name__ == "__main__":
    main()
