"""bench_batch, bench_realtime and bench_teach on an earlier revision and on this tree, side by side.

The base revision is checked out in a temporary `git worktree` and run with this venv, nothing
installed: each benchmark is today's script, run in a subprocess whose PYTHONPATH puts one code
tree first (checked: `import edge_app` must resolve inside it). The two trees take turns in
ABBA order (base, ours, ours, base, ...), so a machine that gets busier or quieter during the run
weighs on both alike. Per figure it prints the median of each, the ratio ours/base, and the noise:
the spread (max - min) / median of each tree's repeated runs. A ratio further from 1 than the
larger spread is flagged.

    python benchmarks/compare_revisions.py [--base b6de181] [--ours REV] [--repeats 4] [--only batch,teach]

Ours is this working tree, or with --ours another revision in a second temporary worktree (so the
tree can be edited while it runs); the benchmark scripts are always this tree's.

The default base, b6de181, is main just before issue 17's merges: the ci and harden branches are
in, the web branch (edge_app/web) and the core branch (nested config, runtime/, the bus's
subscribers) are not.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_BASE = "b6de181"


@dataclass(frozen=True)
class Bench:
    name: str
    script: str
    args: tuple[str, ...]
    figures: tuple[str, ...]  # the JSON keys compared, in print order
    higher_is_better: frozenset[str] = frozenset()


BENCHES = (
    Bench("batch", "bench_batch.py", ("--ours-only", "--rounds", "1"), ("batch_fps",), frozenset({"batch_fps"})),
    Bench(
        "realtime",
        "bench_realtime.py",
        (),
        ("viewer_fps", "cpu_share", "inference_ms_p50", "result_age_p95_ms", "rss_peak_mb"),
        frozenset({"viewer_fps"}),
    ),
    Bench(
        "teach",
        "bench_teach.py",
        (),
        ("train_to_labels_s", "train_answer_s", "fps_during", "fps_before"),
        frozenset({"fps_during", "fps_before"}),
    ),
)


@dataclass
class Tree:
    label: str
    path: Path
    runs: dict[str, list[dict[str, float]]] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        return {**os.environ, "PYTHONPATH": str(self.path)}


def git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], check=True, capture_output=True, text=True).stdout.strip()


def check_imports(tree: Tree, cwd: Path) -> None:
    """`import edge_app` in a subprocess must come from `tree`, not from the editable install."""
    found = subprocess.run(
        [sys.executable, "-c", "import edge_app; print(edge_app.__file__)"],
        env=tree.env(),
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    if not Path(found).resolve().is_relative_to(tree.path.resolve()):
        raise SystemExit(f"{tree.label}: edge_app resolves to {found}, not inside {tree.path}")
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(tree.path / "edge_app")], check=True)
    print(f"{tree.label}: edge_app from {found}")


def run_once(bench: Bench, extra: Sequence[str], tree: Tree, cwd: Path, log: Path) -> dict[str, float]:
    command = [sys.executable, str(ROOT / "benchmarks" / bench.script), *bench.args, *extra, "--json"]
    with log.open("a") as err:
        err.write(f"\n== {tree.label} {bench.name}: {' '.join(command)}\n")
        err.flush()
        done = subprocess.run(command, env=tree.env(), cwd=cwd, stdout=subprocess.PIPE, stderr=err, text=True)
    lines = done.stdout.strip().splitlines()
    if done.returncode or not lines:
        raise SystemExit(f"{tree.label} {bench.name} failed (exit {done.returncode}); see {log}")
    return json.loads(lines[-1])


def spread(values: Sequence[float]) -> float:
    middle = median(values)
    return (max(values) - min(values)) / abs(middle) if middle else float("nan")


def report(bench: Bench, base: Tree, ours: Tree) -> list[str]:
    lines = [f"{bench.name} ({len(base.runs[bench.name])} runs each)"]
    for key in bench.figures:
        a = [run[key] for run in base.runs[bench.name]]
        b = [run[key] for run in ours.runs[bench.name]]
        ratio = median(b) / median(a) if median(a) else float("nan")
        noise = max(spread(a), spread(b))
        better = "higher" if key in bench.higher_is_better else "lower"
        verdict = "one run: no noise to judge by" if len(a) < 2 or len(b) < 2 else "within noise"
        if verdict == "within noise" and abs(ratio - 1) > noise:
            verdict = "OUTSIDE NOISE"
        lines.append(
            f"  {key:<20} base {median(a):9.3f}  ours {median(b):9.3f}  ratio {ratio:5.3f}  noise base "
            f"{spread(a) * 100:5.1f} % ours {spread(b) * 100:5.1f} %  ({better} is better; {verdict})"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default=DEFAULT_BASE, help="the revision to compare against")
    parser.add_argument("--ours", help="a revision to measure instead of this working tree")
    parser.add_argument("--repeats", type=int, default=4, help="runs of each benchmark per tree (ABBA order)")
    parser.add_argument("--only", default="batch,realtime,teach", help="which benchmarks, comma-separated")
    parser.add_argument("--batch-frames", type=int, default=600)
    parser.add_argument("--realtime-frames", type=int, default=900, help="30 s of video at 30 fps")
    parser.add_argument("--teach-rounds", type=int, default=2)
    args = parser.parse_args()
    extra = {
        "batch": ("--frames", str(args.batch_frames)),
        "realtime": ("--frames", str(args.realtime_frames)),
        "teach": ("--rounds", str(args.teach_rounds)),
    }
    wanted = set(args.only.split(","))
    benches = [bench for bench in BENCHES if bench.name in wanted]
    commit = git("rev-parse", "--verify", f"{args.base}^{{commit}}")
    with tempfile.TemporaryDirectory(prefix="edge-app-compare-") as tmp:
        trees = [Path(tmp, "base")]
        git("worktree", "add", "--detach", str(trees[0]), commit)
        try:
            base = Tree(f"base {commit[:7]}", trees[0])
            if args.ours:
                trees.append(Path(tmp, "ours"))
                git("worktree", "add", "--detach", str(trees[1]), args.ours)
                ours = Tree(f"ours {git('rev-parse', '--short', args.ours)}", trees[1])
            else:
                ours = Tree(f"ours {git('rev-parse', '--short', 'HEAD')}+tree", ROOT)
            cwd = Path(tmp, "cwd")  # neither tree: `python -m edge_app` must not find a package in the cwd
            cwd.mkdir()
            log = Path(tempfile.gettempdir(), "edge-app-compare.log")
            log.write_text("")
            for tree in (base, ours):
                check_imports(tree, cwd)
            print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; stderr goes to {log}")
            began = time.monotonic()
            for repeat in range(args.repeats):
                order = (base, ours) if repeat % 2 == 0 else (ours, base)
                for bench in benches:
                    for tree in order:
                        figures = run_once(bench, extra[bench.name], tree, cwd, log)
                        tree.runs.setdefault(bench.name, []).append(figures)
                        shown = ", ".join(f"{key} {figures[key]:.3f}" for key in bench.figures)
                        print(f"[{time.monotonic() - began:5.0f} s] {tree.label} {bench.name}: {shown}", flush=True)
            print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
            for bench in benches:
                print("\n".join(report(bench, base, ours)))
        finally:
            for where in trees:
                git("worktree", "remove", "--force", str(where))


if __name__ == "__main__":
    main()
