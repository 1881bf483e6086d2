"""`edge-app train --fine-tune 2 --search random --trials 8` on 480 photos vs one bare interpreter
pass over the same photos, and the command's peak memory.

Targets (issue 20): at most 20x one bare pass (decode, preprocess, invoke) on this machine, and a
peak RSS of at most 1 GB, so it fits a 2 GB Pi. "Ours" is the real command in a child process,
start-up, JAX's compilation, the embedding of every photo and its augmented views (empty cache),
the 8 trials, the requantization and the write included. The bare pass and the 480 photos
(flowers-4, imagenet-100 and mirrored re-encoded copies, 5 classes) are bench_train's.

Rounds alternate ours and two bare passes; the second bare pass is a noise control (more than
10 % apart: the machine was too busy for the ratio to mean anything).

    python benchmarks/bench_finetune.py [--rounds 1] [--trials 8] [--blocks 2]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

import _common  # noqa: F401  (catalog names resolve to ../shared/models, offline)
from _common import ROOT
from bench_train import NOISE, PHOTOS, bare_pass, make_dataset

from edge_app.model import catalog
from edge_app.model.lanes import cores

TARGET = 20.0
RSS_LIMIT_MB = 1024.0


def fine_tune_once(data: Path, work: Path, args: argparse.Namespace) -> tuple[float, float]:
    """Seconds and peak RSS (MB) of the real command, with an empty embedding cache."""
    command = [
        sys.executable,
        "-m",
        "edge_app",
        "train",
        str(data),
        "--out",
        str(work / "model.tflite"),
        "--base",
        args.base,
        "--fine-tune",
        str(args.blocks),
        "--search",
        "random",
        "--trials",
        str(args.trials),
        "--cache",
        tempfile.mkdtemp(dir=work, prefix="cache-"),
    ]
    log = work / "train.log"
    start = time.perf_counter()
    with log.open("wb") as sink:
        child = subprocess.Popen(command, cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT, env={**os.environ})
        _, status, usage = os.wait4(child.pid, 0)  # reaped here, so its own peak RSS is ours to read
    elapsed = time.perf_counter() - start
    text = log.read_text(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"edge-app train failed:\n{text.strip()}")
    table = text.split("fine-tuning trials")[-1].split("\n\n")[0]
    stages = next((line for line in text.splitlines() if line.startswith("seconds:")), "")
    print(f"fine-tuning trials{table}\n{stages}", file=sys.stderr)
    return elapsed, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default=catalog.default_model().name)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--blocks", type=int, default=2)
    args = parser.parse_args()
    model, _ = catalog.resolve(args.base)
    with tempfile.TemporaryDirectory(prefix="bench-finetune-") as folder:
        work = Path(folder)
        paths = make_dataset(work / "data")
        bare_pass(model, paths[:40])  # warm the file cache and the interpreter code
        times: dict[str, list[float]] = {"ours": [], "bare": [], "control": []}
        peaks: list[float] = []

        def ours() -> None:
            seconds, peak = fine_tune_once(work / "data", work, args)
            times["ours"].append(seconds)
            peaks.append(peak)

        sides = [
            ours,
            lambda: times["bare"].append(bare_pass(model, paths)),
            lambda: times["control"].append(bare_pass(model, paths)),
        ]
        for round_ in range(args.rounds):
            shift = round_ % len(sides)
            for side in sides[shift:] + sides[:shift]:
                side()
    seconds = {name: median(values) for name, values in times.items()}
    noise = seconds["control"] / seconds["bare"]
    note = "  too noisy to judge, run again on a quieter machine" if abs(noise - 1) > NOISE else ""
    ratio = seconds["ours"] / seconds["bare"]
    verdict = "ok" if ratio <= TARGET else "ABOVE TARGET"
    print(
        f"{args.base}: {PHOTOS} photos, 5 classes; --fine-tune {args.blocks} --search random --trials {args.trials}; "
        f"{cores()} cores; median of {args.rounds} round(s)"
    )
    print(
        f"fine-tune {seconds['ours']:.1f} s = {ratio:.1f}x the bare pass {seconds['bare']:.2f} s "
        f"(target <= {TARGET:.0f}x: {verdict}); bare-vs-bare control {noise:5.3f}{note}"
    )
    peak = max(peaks)
    print(
        f"peak RSS {peak:.0f} MB (target <= {RSS_LIMIT_MB:.0f} MB: {'ok' if peak <= RSS_LIMIT_MB else 'ABOVE TARGET'})"
    )


if __name__ == "__main__":
    main()
