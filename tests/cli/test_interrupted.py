"""Ctrl-C during eval and compare: "interrupted after N of M", exit 130, and no half-written output;
the atomic writers every output goes through."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from edge_app.atomic import atomic_open, atomic_write_bytes, atomic_write_text, replacing
from edge_app.errors import Interrupted
from edge_app.evaluate import compare, report
from tests.fakes.cli_run import run_cli
from tests.helpers.shared_data import IMAGENET100

ROOT = Path(__file__).resolve().parents[2]
FAST_MODEL = "mobilenet_v1_0.25_128_quant"

# eval with every photo slowed down, saying on stdout when the first one starts
SLOW_EVAL = """
import sys, time
import edge_app.evaluate.runner as runner
real = runner._Lanes.run
def slow(self, path):
    print("photo", flush=True)
    time.sleep(0.05)
    return real(self, path)
runner._Lanes.run = slow
sys.argv = ["edge-app", *sys.argv[1:]]
from edge_app.__main__ import main
main()
"""


def test_atomic_writers_replace_whole_files_and_leave_nothing_when_interrupted(tmp_path: Path) -> None:
    target = tmp_path / "notes.txt"
    atomic_write_text(target, "old\n")
    with pytest.raises(KeyboardInterrupt):
        with atomic_open(target, "w") as f:
            f.write("half of the new")
            raise KeyboardInterrupt
    assert target.read_text() == "old\n" and os.listdir(tmp_path) == ["notes.txt"]
    atomic_write_bytes(target, b"new\n")
    assert target.read_bytes() == b"new\n" and os.listdir(tmp_path) == ["notes.txt"]


def test_a_set_of_files_appears_together_or_not_at_all(tmp_path: Path) -> None:
    paths = [tmp_path / "a.csv", tmp_path / "b.png"]
    with pytest.raises(OSError):
        with replacing(paths) as temps:
            assert [t.suffix for t in temps] == [".csv", ".png"]  # writers that choose the format by suffix still can
            temps[0].write_text("complete")
            raise OSError(28, "No space left on device")
    assert os.listdir(tmp_path) == []


def test_eval_outputs_interrupted_while_written_leave_the_previous_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("confusion.csv", "per_class.csv"):
        (tmp_path / name).write_text("yesterday")

    def interrupted(path: Path, *args: object) -> None:
        path.write_text("half")
        raise KeyboardInterrupt

    monkeypatch.setattr(report, "_write_per_class", interrupted)
    monkeypatch.setattr(
        report, "write_pictures", lambda _evaluation, *pngs: [png.write_bytes(b"png") for png in pngs[:2]]
    )
    monkeypatch.setattr(report.confusion, "write_csv", lambda path, *args: path.write_text("new"))

    class Stub:
        model = "m"
        metrics = type("M", (), {"confusion": None, "top1": 0.5, "n": 2})()
        names: list[str] = []
        dataset = type("D", (), {"listing": type("L", (), {"data": tmp_path})()})()

    with pytest.raises(KeyboardInterrupt):
        report.write_outputs(Stub(), tmp_path)  # type: ignore[arg-type]  # a stub of the evaluation: what it reads
    assert sorted(os.listdir(tmp_path)) == ["confusion.csv", "per_class.csv"]
    assert (tmp_path / "confusion.csv").read_text() == "yesterday"


@pytest.mark.slow
def test_ctrl_c_during_eval_says_how_far_it_got_and_writes_nothing(model_cache: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = [
        "eval",
        str(IMAGENET100 / "labels.csv"),
        "--model",
        FAST_MODEL,
        "--out",
        str(out),
        "--workers",
        "1",
        "--lanes",
        "1",
        "--threads",
        "1",
    ]
    process = subprocess.Popen(
        [sys.executable, "-c", SLOW_EVAL, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT
    )
    try:
        assert process.stdout is not None and process.stdout.readline() == "photo\n"
        for _ in range(5):  # a few photos in
            process.stdout.readline()
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130, err
    found = re.fullmatch(r"edge-app: interrupted after (\d+) of 100 photos\n", err)
    assert found and 0 < int(found.group(1)) < 100, err
    assert not out.exists() or not any(out.iterdir())


def test_ctrl_c_during_compare_names_the_models_done_and_writes_no_table(
    model_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = compare.measure
    measured: list[str] = []

    def measure(spec: str, *args: Any) -> compare.Measured:  # args: compare.measure's, passed through
        if measured:
            raise Interrupted(7, 100, "photos")
        measured.append(spec)
        return real(spec, *args)

    monkeypatch.setattr(compare, "measure", measure)
    table = tmp_path / "models.csv"
    run = run_cli(
        capsys,
        "compare",
        FAST_MODEL,
        "mobilenet_v1_0.5_160_quant",
        "--data",
        str(IMAGENET100 / "labels.csv"),
        "--runs",
        "2",
        "--warmup",
        "0",
        "--csv",
        str(table),
    )
    assert (run.code, run.err) == (130, "edge-app: interrupted after 1 of 2 models\n")
    assert list(tmp_path.iterdir()) == [tmp_path / "models"]  # the model cache only: no table, no temporary file
