"""`edge-app run` as a child process, for the region benchmarks: a config file with one
`[regions.NAME]` table per region over a generated video (paced in real time, looped), a fresh
state dir each run (no region starts from an earlier run's state), the live view on loopback, and
with `events` its `--events -` JSON lines, each with the wall-clock time it arrived here."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from _common import ROOT

from edge_app.regions.spec import RegionSpec
from tests.helpers.app_process import LineReader
from tests.helpers.ports import free_port
from tests.helpers.waiting import wait_until

MODEL = "mobilenet_v2_1.0_224_quant"
THREADS = 1


def region_tables(specs: Sequence[RegionSpec]) -> str:
    """The regions as a user writes them in the config file."""
    return "".join(
        f"[regions.{spec.name}]\nbox = {spec.box.as_list()}\non_motion = {str(spec.on_motion).lower()}\n"
        f"every = {spec.every:g}\nthreshold = {spec.threshold:g}\nconfirm = {spec.confirm}\n"
        for spec in specs
    )


def timed_json(line: str) -> tuple[float, dict[str, Any]]:
    """A `--events` line and when it arrived (time.time(): the clock the app stamps frames with)."""
    return time.time(), json.loads(line)


class AppRun:
    """One run, from its start until the live view answers, to SIGTERM and its exit."""

    def __init__(self, folder: Path, video: Path, specs: Sequence[RegionSpec], events: bool = False) -> None:
        self.port = free_port()
        run = folder / f"run-{time.monotonic_ns()}"
        run.mkdir()
        config = run / "config.toml"
        config.write_text(
            f'[model]\nmodel = "{MODEL}"\nthreads = {THREADS}\n'
            f'[source]\nsource = "{video}"\nloop = true\n'
            f'[output]\nhttp = "127.0.0.1:{self.port}"\n'
            f'[service]\nstate_dir = "{run / "state"}"\n' + region_tables(specs)
        )
        self.args = [sys.executable, "-m", "edge_app", "run", "--config", str(config)]
        if events:
            self.args += ["--events", "-"]
        self.base = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> AppRun:
        self.process = subprocess.Popen(
            self.args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )  # the environment as _common set it: catalog names resolve to the shared models, offline
        self.lines = LineReader(self.process.stdout, timed_json)  # type: ignore[arg-type]
        self.log = LineReader(self.process.stderr)  # type: ignore[arg-type]
        self.lines.start()
        self.log.start()
        wait_until(self._answers, timeout=120.0, message=self._why_not)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            return True  # _why_not says why, below
        try:
            return bool(self.status())
        except OSError:
            return False

    def _why_not(self) -> str:
        return f"edge-app run did not start (exit {self.process.poll()}):\n{self.log.text()[-3000:]}"

    def status(self) -> dict[str, Any]:
        if self.process.poll() is not None:
            raise SystemExit(self._why_not())
        with urllib.request.urlopen(f"{self.base}/api/status", timeout=5) as answer:
            status: dict[str, Any] = json.loads(answer.read())
            return status

    def region_runs(self) -> dict[str, int]:
        """Each region's runs so far, from /api/status "regions"."""
        regions = self.status().get("regions", {})
        return {name: view["runs"] for name, view in regions.items()}

    def cpu_seconds(self) -> float:
        """The child's user + system CPU seconds so far, all its threads."""
        import psutil  # the test extra's

        times = psutil.Process(self.process.pid).cpu_times()
        return float(times.user + times.system)
