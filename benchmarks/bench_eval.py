"""`edge-app eval` throughput vs a bare interpreter invoke loop with the same thread budget.

Target (issue 5): eval >= 0.9x the bare invoke rate for the same thread budget. Eval reads the
photos of ../shared/imagenet-100, decodes and prepares them on its thread pool while the model
runs; the bare loop only invokes one interpreter with BUDGET threads, on an input set once.

For each budget, two eval set-ups are measured: eval's default, BUDGET single-thread lanes
(interpreters side by side), and one lane of BUDGET threads (the layout of `run`). All are
measured in this one run, in short blocks whose order rotates every round, so noise from a busy
machine hits all alike. A second bare loop is timed the same way as a control: when it differs
from the first by more than 10 %, the machine was too noisy for the ratios to mean anything.

Decoding needs CPU of its own: with one lane of every core, the bound is about
invoke / (invoke + decode / cores). The script prints the decode cost so that can be read.

    python benchmarks/bench_eval.py [--model mobilenet_v2_1.0_224_quant] [--budget 1 2] [--rounds 12] [--block 50]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from functools import partial
from pathlib import Path

import _common  # noqa: F401  (catalog names resolve to ../shared/models, offline)
from _common import SHARED, ratio_line
from bench_wrapper import bare_interpreter, bare_times

from edge_app.evaluate.dataset import scan
from edge_app.evaluate.runner import predict
from edge_app.images import read_image
from edge_app.model.classifier import Classifier, ModelOptions
from edge_app.model.lanes import cores, open_lanes

TARGET = 0.9
NOISE = 0.10
MANIFEST = SHARED / "imagenet-100" / "labels.csv"


def decode_ms(classifier: Classifier, paths: list[Path]) -> float:
    """Decode + prepare per photo, on one thread."""
    start = time.perf_counter()
    for path in paths:
        classifier.prepare(read_image(path), "bgr")
    return (time.perf_counter() - start) * 1000 / len(paths)


def measure(model: str, budget: int, rounds: int, block: int, workers: int | None = None) -> dict[str, float]:
    """Images per second: eval on lanes, eval on one interpreter, a bare loop and its control."""
    base = ModelOptions(model=model, delegate="cpu", threads=1)
    evals = {"lanes": open_lanes(base, lanes=budget)}
    if budget > 1:
        evals["one"] = open_lanes(replace(base, threads=budget), lanes=1)
    path = str(evals["lanes"][0].info.path)
    bares = {"bare": bare_interpreter(path, budget), "control": bare_interpreter(path, budget)}
    photos = [entry.path for entry in scan(MANIFEST).entries]
    spent = dict.fromkeys([*evals, *bares], 0.0)
    done = dict.fromkeys(spent, 0)

    def run_eval(name: str, start: int) -> None:
        chunk = [photos[(start + i) % len(photos)] for i in range(block)]
        result = predict(evals[name], chunk, workers=workers)
        spent[name] += result.seconds
        done[name] += int(result.ok.sum())

    def run_bare(name: str) -> None:
        spent[name] += float(bare_times(bares[name], block, 1).sum()) / 1000.0
        done[name] += block

    for name in evals:
        predict(evals[name], photos[:block], workers=workers)  # warm the file cache and the lanes
    for name in bares:
        bare_times(bares[name], 10, 5)
    for round_ in range(rounds):
        sides = [partial(run_eval, name, round_ * block) for name in evals] + [
            partial(run_bare, name) for name in bares
        ]
        shift = round_ % len(sides)
        for side in sides[shift:] + sides[:shift]:
            side()
    rates = {name: done[name] / spent[name] for name in spent}
    return {**rates, "decode_ms": decode_ms(evals["lanes"][0], photos[:50]), "invoke_ms": 1000.0 / rates["bare"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="mobilenet_v2_1.0_224_quant")
    parser.add_argument(
        "--budget",
        type=int,
        nargs="+",
        default=sorted({1, cores()}),
        help="interpreter threads in all (default: 1 and every core)",
    )
    parser.add_argument("--workers", type=int, default=None, help="eval's threads (default: eval's own default)")
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--block", type=int, default=50, help="photos (eval) or invokes (bare) per side per round")
    args = parser.parse_args()
    print(f"{args.model}: {args.rounds} rotating rounds x {args.block} images per side; {cores()} cores")
    for budget in args.budget:
        r = measure(args.model, budget, args.rounds, args.block, args.workers)
        noise = r["control"] / r["bare"]
        note = "  too noisy to judge, run again on a quieter machine" if abs(noise - 1) > NOISE else ""
        print(
            ratio_line(f"eval, {budget} lane(s) x 1 thread (default layout)", r["lanes"], r["bare"], TARGET, "img/s")
            + note
        )
        if "one" in r:
            print(ratio_line(f"eval, 1 lane x {budget} threads", r["one"], r["bare"], TARGET, "img/s") + note)
        bound = r["invoke_ms"] / (r["invoke_ms"] + r["decode_ms"] / cores()) if budget >= cores() else 1.0
        print(
            f"    baseline: bare invoke, {budget} thread(s), {r['invoke_ms']:.2f} ms; bare-vs-bare control "
            f"{noise:5.3f}; "
            f"decode + prepare {r['decode_ms']:.2f} ms/photo on one thread; one-lane bound about {bound:.2f}"
        )


if __name__ == "__main__":
    main()
