"""Run the real `edge-app` entry point in-process or as `python -m edge_app`, and check the
"one line, non-zero exit, no traceback" rule for user mistakes."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from edge_app.cli import main

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class CliRun:
    code: int
    out: str
    err: str


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> CliRun:
    """`edge-app ARGS` through edge_app.cli.main, which always ends in sys.exit."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    captured = capsys.readouterr()
    code = exited.value.code
    return CliRun(code if isinstance(code, int) else 1, captured.out, captured.err)


def run_module(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> CliRun:
    """`python -m edge_app ARGS` in a child process (real fd 2, real interpreter start-up)."""
    child_env = {**os.environ, **(env or {})}  # the fixtures' EDGE_APP_* settings carry over
    done = subprocess.run(
        [sys.executable, "-m", "edge_app", *args],
        capture_output=True,
        text=True,
        env=child_env,
        cwd=ROOT,
        timeout=timeout,
    )
    return CliRun(done.returncode, done.stdout, done.stderr)


def assert_one_line_error(run: CliRun, *needles: str) -> str:
    """The user-mistake contract: non-zero exit, exactly one stderr line, no traceback."""
    lines = run.err.splitlines()
    assert run.code != 0, f"exit code 0; stderr: {run.err!r}"
    assert len(lines) == 1, f"expected one stderr line, got {len(lines)}: {run.err!r}"
    assert lines[0].startswith("edge-app: error: "), lines[0]
    assert "Traceback" not in run.err + run.out
    for needle in needles:
        assert needle in lines[0], f"{needle!r} not in {lines[0]!r}"
    return lines[0]
