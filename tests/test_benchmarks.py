"""Every script under benchmarks/ still imports: a renamed module or a moved helper breaks a benchmark
silently otherwise, since nothing runs them but a person measuring."""

from __future__ import annotations

import subprocess
import sys

from tests.helpers.shared_data import ROOT

BENCHMARKS = ROOT / "benchmarks"


def test_every_benchmark_imports() -> None:
    names = sorted(p.stem for p in BENCHMARKS.glob("*.py"))
    assert len(names) > 10
    script = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"
    done = subprocess.run(
        [sys.executable, "-c", script, *names], cwd=BENCHMARKS, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
