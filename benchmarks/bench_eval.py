"""`edge-app eval` throughput vs a bare interpreter invoke loop with the same interpreter threads.

Target (issue 5): eval >= 0.9x the bare invoke rate for the same thread budget. Eval reads each
photo of ../shared/imagenet-100, decodes and prepares it on a thread pool and invokes the
model; the baseline only invokes, on an input set once. Both are measured in this one run, in
alternating rounds so a noisy machine hits both alike; the median round ratio is reported.

Eval's decoding needs CPU of its own, so the ratio can only approach 1 when the interpreter
leaves some idle: with every core given to the interpreter the bound is about
invoke / (invoke + decode / cores). The script prints the decode cost so the figure can be read.

    python benchmarks/bench_eval.py [--model mobilenet_v2_1.0_224_quant] [--threads 1 2] [--rounds 9]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import _common  # noqa: F401  (paths, model cache)
from _common import SHARED, ratio_line

import numpy as np

from edge_app.evaluate.dataset import assign, scan
from edge_app.evaluate.labelmatch import LabelMatcher
from edge_app.evaluate.runner import default_workers, predict
from edge_app.images import read_image
from edge_app.model.classifier import Classifier, ModelOptions
from edge_app.model.runtime import load_runtime

TARGET = 0.9
MANIFEST = SHARED / "imagenet-100" / "labels.csv"


def bare_invoke_rate(model: Path, threads: int, runs: int) -> float:
    """The baseline: one interpreter, its input set once, invoke after invoke."""
    interpreter = load_runtime().Interpreter(model_path=str(model), num_threads=threads)
    interpreter.allocate_tensors()
    detail = interpreter.get_input_details()[0]
    interpreter.set_tensor(detail["index"], np.zeros(detail["shape"], detail["dtype"]))
    for _ in range(5):
        interpreter.invoke()
    start = time.perf_counter()
    for _ in range(runs):
        interpreter.invoke()
    return runs / (time.perf_counter() - start)


def decode_ms(classifier: Classifier, paths: list[Path]) -> float:
    start = time.perf_counter()
    for path in paths:
        classifier.prepare(read_image(path), "bgr")
    return (time.perf_counter() - start) * 1000 / len(paths)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="mobilenet_v2_1.0_224_quant")
    parser.add_argument("--threads", type=int, nargs="+", default=sorted({1, os.cpu_count() or 1}))
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--repeat", type=int, default=1, help="passes over the 100 photos per eval round")
    parser.add_argument("--workers", type=int, default=None, help="decoding threads (default: every core)")
    args = parser.parse_args()

    listing = scan(MANIFEST)
    print(f"{args.model}, {len(listing.entries)} photos x {args.repeat} per round, {args.rounds} rounds, "
          f"{os.cpu_count()} cores, {args.workers or default_workers()} decoding threads")
    for threads in args.threads:
        classifier = Classifier.open(ModelOptions(model=args.model, delegate="cpu", threads=threads))
        paths = [s.path for s in assign(listing, LabelMatcher(classifier.labels)).samples] * args.repeat
        print(f"\nthreads={threads}: decode + prepare {decode_ms(classifier, paths[:100]):.2f} ms per photo on one thread")
        evals, bares, ratios = [], [], []
        for _ in range(args.rounds):
            result = predict(classifier, paths, workers=args.workers)
            bare = bare_invoke_rate(classifier.info.path, threads, len(paths))
            evals.append(result.images_per_s)
            bares.append(bare)
            ratios.append(result.images_per_s / bare)
        print("  rounds (eval/bare img/s): " + "  ".join(f"{e:.0f}/{b:.0f}={r:.2f}" for e, b, r in zip(evals, bares, ratios)))
        print("  " + ratio_line(f"eval vs bare invoke, {threads} thread(s), medians", statistics.median(evals), statistics.median(bares), TARGET, "img/s"))
        ratio = statistics.median(ratios)
        print(f"  median of the per-round ratios {ratio:.2f}  (target >= {TARGET:.2f}: {'ok' if ratio >= TARGET else 'BELOW TARGET'})")


if __name__ == "__main__":
    main()
