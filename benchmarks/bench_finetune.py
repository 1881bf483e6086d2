"""`edge-app train --fine-tune 2 --search random --trials 8` on 480 photos vs one bare interpreter
pass over the same photos, and the command's peak memory.

Targets (issue 20): at most 20x one bare pass (decode, preprocess, invoke) on this machine, and a
peak RSS of at most 1 GB, so it fits a 2 GB Pi. "Ours" is the real command in a child process,
start-up, JAX's compilation, the embedding of every photo and its augmented views (empty cache),
the 8 trials, the requantization and the write included. The bare pass and the 480 photos
(flowers-4, imagenet-100 and mirrored re-encoded copies, 5 classes) are bench_train's.

Rounds alternate ours and two bare passes; the second bare pass is a noise control (more than
10 % apart: the machine was too busy for the ratio to mean anything).

The search stops losing trials by the median rule (pruning.py). `--exhaustive` also runs it with
`--no-prune`, prints that ratio too, and says whether both chose the same trial and wrote the
same model: the rule saves time only if it does not change the choice.

    python benchmarks/bench_finetune.py [--rounds 1] [--trials 8] [--blocks 2] [--exhaustive]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from statistics import median

import _common  # noqa: F401  (catalog names resolve to ../shared/models, offline)
from _common import ROOT
from bench_train import NOISE, PHOTOS, bare_pass, make_dataset

from edge_app.model import catalog
from edge_app.model.lanes import cores

TARGET = 20.0
RSS_LIMIT_MB = 1024.0


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_mb: float
    chosen: str  # the chosen trial's row of the trials table
    digest: str  # of the model written


def fine_tune_once(data: Path, work: Path, args: argparse.Namespace, *flags: str) -> Run:
    """The real command, with an empty embedding cache."""
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
        *flags,
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
    print(f"fine-tuning trials {' '.join(flags)}{table}\n{stages}", file=sys.stderr)
    chosen = next((line.split("<-")[0].strip() for line in table.splitlines() if "<- chosen" in line), "none")
    digest = hashlib.sha256((work / "model.tflite").read_bytes()).hexdigest()
    return Run(elapsed, usage.ru_maxrss / 1024, chosen, digest)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default=catalog.default_model().name)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--blocks", type=int, default=2)
    parser.add_argument("--exhaustive", action="store_true", help="also run the search with --no-prune")
    args = parser.parse_args()
    model, _ = catalog.resolve(args.base)
    with tempfile.TemporaryDirectory(prefix="bench-finetune-") as folder:
        work = Path(folder)
        paths = make_dataset(work / "data")
        bare_pass(model, paths[:40])  # warm the file cache and the interpreter code
        times: dict[str, list[float]] = {"ours": [], "exhaustive": [], "bare": [], "control": []}
        runs: list[Run] = []
        full: list[Run] = []

        def ours() -> None:
            runs.append(fine_tune_once(work / "data", work, args))
            times["ours"].append(runs[-1].seconds)

        def exhaustive() -> None:
            full.append(fine_tune_once(work / "data", work, args, "--no-prune"))
            times["exhaustive"].append(full[-1].seconds)

        sides = [
            ours,
            *([exhaustive] if args.exhaustive else []),
            lambda: times["bare"].append(bare_pass(model, paths)),
            lambda: times["control"].append(bare_pass(model, paths)),
        ]
        for round_ in range(args.rounds):
            shift = round_ % len(sides)
            for side in sides[shift:] + sides[:shift]:
                side()
    seconds = {name: median(values) for name, values in times.items() if values}
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
    if full:
        numbers = {r.chosen.split()[0] for r in runs + full}  # the chosen trial's number
        same = len({r.digest for r in runs + full}) == 1 and len(numbers) == 1
        print(
            f"--no-prune {seconds['exhaustive']:.1f} s = {seconds['exhaustive'] / seconds['bare']:.1f}x; the same "
            f"choice and the same model with and without the median rule: {'yes' if same else 'NO'}\n"
            f"  pruned:     {runs[0].chosen}\n  exhaustive: {full[0].chosen}"
        )
    peak = max(r.peak_mb for r in runs + full)
    print(
        f"peak RSS {peak:.0f} MB (target <= {RSS_LIMIT_MB:.0f} MB: {'ok' if peak <= RSS_LIMIT_MB else 'ABOVE TARGET'})"
    )


if __name__ == "__main__":
    main()
