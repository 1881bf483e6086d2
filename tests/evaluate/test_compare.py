"""`edge-app compare`: the five catalog ImageNet models against the references (shared_data),
the table formats, and Edge TPU rows through the fake delegate loader."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import edge_app.evaluate.compare as compare_module
from edge_app.evaluate.compare import Row, format_markdown, format_table, plan
from tests.fakes.cli_run import CliRun, assert_one_line_error, run_cli
from tests.fakes.tflite_fakes import RecordingInterpreter, fake_litert
from tests.helpers.shared_data import IMAGENET100, IMAGENET100_TOP1, MODELS

MANIFEST = IMAGENET100 / "labels.csv"
REFERENCE = {model: crop for model, (crop, _) in IMAGENET100_TOP1.items()}  # top-1 out of 100, catalog order
V2 = "mobilenet_v2_1.0_224_quant"
SMALL = "mobilenet_v1_0.25_128_quant"
SMALL_TOP1 = f"{REFERENCE[SMALL]:.1f}% ({REFERENCE[SMALL]}/100)"
FAST = ("--runs", "3", "--warmup", "1")


def _compare(capsys: pytest.CaptureFixture[str], *args: str) -> CliRun:
    return run_cli(capsys, "compare", "--data", str(MANIFEST), *FAST, *args)


def test_the_five_imagenet_models_match_the_references(
    model_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    markdown, table = tmp_path / "models.md", tmp_path / "models.csv"
    run = _compare(capsys, "--delegate", "cpu", "--json", "--markdown", str(markdown), "--csv", str(table))
    assert run.code == 0, run.err
    rows = json.loads(run.out)
    assert {r["model"]: r["top1_correct"] for r in rows} == REFERENCE, "no models given: the catalog's ImageNet models"
    assert [r["model"] for r in rows] == list(REFERENCE), "catalog order"
    by_name = {r["model"]: r for r in rows}
    v2 = by_name[V2]
    assert v2["size_bytes"] == (MODELS / f"{V2}.tflite").stat().st_size
    assert 3.4e6 < v2["params"] < 3.6e6, "MobileNetV2 1.0 has about 3.5 M parameters"
    assert 290e6 < v2["macs"] < 310e6, "and about 300 M multiply-accumulates"
    assert by_name[SMALL]["macs"] < 20e6 and all(r["spread"] >= 0 for r in rows)
    assert (v2["input"], v2["quantization"], v2["delegate"], v2["n"]) == ("224x224", "uint8", "cpu", 100)
    assert by_name["tf2_mobilenet_v2_1.0_224_ptq"]["quantization"] == "int8, uint8 I/O"
    assert by_name[SMALL]["input"] == "128x128" and by_name[SMALL]["params"] < 0.5e6
    for r in rows:
        assert 0 < r["p50_ms"] <= r["p90_ms"] and r["fps"] == pytest.approx(1000 / r["p50_ms"], rel=0.01)
        assert r["top5"] >= r["top1"] == pytest.approx(r["top1_correct"] / 100)

    lines = markdown.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith(
        "| model | delegate | size | params | MACs | input | quantization | top-1 | top-5 | p50 ms | p90 ms | spread "
        "| FPS |"
    )
    assert len(lines) == 2 + 5 and f"| {REFERENCE[V2]:.1f}% ({REFERENCE[V2]}/100) |" in lines[3]
    with table.open(encoding="utf-8") as f:
        exported = list(csv.DictReader(f))
    assert [int(r["top1_correct"]) for r in exported] == list(REFERENCE.values())


def test_text_table_and_a_model_with_other_labels(model_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    birds = "mobilenet_v2_1.0_224_inat_bird_quant"
    run = _compare(capsys, SMALL, birds, "--delegate", "cpu")
    assert run.code == 0
    lines = run.out.splitlines()
    assert lines[0] == f"100 images in {MANIFEST} (CSV manifest), resize crop"
    assert lines[1].split() == [
        "model",
        "delegate",
        "size",
        "params",
        "MACs",
        "input",
        "quantization",
        "top-1",
        "top-5",
        "p50",
        "ms",
        "p90",
        "ms",
        "spread",
        "FPS",
    ]
    assert lines[3].startswith(SMALL) and SMALL_TOP1 in lines[3]
    assert lines[4].startswith(birds) and " - " in lines[4], "no ImageNet label is a bird species label"
    assert f"no image's label is a label of {birds}" in run.err


def _seed_twin(cache: Path, model: str) -> Path:
    """A stand-in Edge TPU build: the fake delegate runs it on the CPU."""
    twin = cache / f"{model}_edgetpu.tflite"
    twin.symlink_to(MODELS / f"{model}.tflite")
    return twin


def _lone_copy(folder: Path, model: str) -> Path:
    """A model given by path, with no `_edgetpu` build beside it."""
    folder.mkdir(exist_ok=True)
    path = folder / f"{model}.tflite"
    path.symlink_to(MODELS / f"{model}.tflite")
    return path


def test_edgetpu_rows_appear_when_a_coral_is_attached(
    model_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    twin = _seed_twin(model_cache, SMALL)
    lone = _lone_copy(tmp_path / "mine", V2)
    fake_litert(monkeypatch, "loads")
    monkeypatch.setattr(compare_module, "find_edgetpu_devices", lambda: ["usb (2-1, 18d1:9302)"])
    run = _compare(capsys, SMALL, str(lone), "--json")
    assert run.code == 0, run.err
    rows = json.loads(run.out)
    assert [(r["model"], r["delegate"]) for r in rows] == [(SMALL, "cpu"), (SMALL, "edgetpu"), (V2, "cpu")]
    assert rows[1]["path"] == str(twin) and rows[1]["params"] == rows[0]["params"], "parameters of the CPU build"
    assert rows[1]["top1_correct"] == REFERENCE[SMALL]
    assert (
        run.err.startswith(f"edge-app: warning: no Edge TPU row for {lone}: no Edge TPU build")
        and len(run.err.splitlines()) == 1
    )
    assert any(made["model_path"] == str(twin) and made["delegates"] for made in RecordingInterpreter.created)


def test_no_coral_means_cpu_rows_only(
    model_cache: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(compare_module, "find_edgetpu_devices", lambda: [])
    rows = json.loads(_compare(capsys, SMALL, "--json").out)
    assert [(r["model"], r["delegate"]) for r in rows] == [(SMALL, "cpu")]


def test_asking_for_the_edgetpu_without_a_build_is_one_line(
    model_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_litert(monkeypatch, "loads")
    lone = _lone_copy(tmp_path, V2)
    run = _compare(capsys, str(lone), "--delegate", "edgetpu", "--json")
    assert run.code == 1 and [(r["model"], r["delegate"]) for r in json.loads(run.out)] == [(str(lone), "edgetpu")]
    assert "no Edge TPU build of" in json.loads(run.out)[0]["error"]
    assert_one_line_error(_compare(capsys, V2, "--delegate", "gpu"), "bad --delegate")
    assert_one_line_error(run_cli(capsys, "compare", SMALL, "--data", "/no/such/data"), "dataset not found")
    assert_one_line_error(run_cli(capsys, "compare", SMALL), "--data")
    assert_one_line_error(_compare(capsys, SMALL, "--markdown", str(tmp_path / "no" / "t.md")), "does not exist")


def test_a_model_that_cannot_be_had_is_a_row_with_its_error(
    model_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.tflite"
    broken.write_bytes(b"\x10\x00\x00\x00TFL3, then not a model")  # damaged past its TFL3 mark
    markdown, table = tmp_path / "models.md", tmp_path / "models.csv"
    run = _compare(
        capsys,
        "mobilenet_v9",
        SMALL,
        str(broken),
        "--delegate",
        "cpu",
        "--markdown",
        str(markdown),
        "--csv",
        str(table),
    )
    assert run.code == 1, "some model failed: exit 1, after comparing the rest"
    lines = run.out.splitlines()
    assert lines[1].split()[-1] == "error", "an error column, only because a row failed"
    unknown, small, bad = lines[3:6]
    assert unknown.startswith("mobilenet_v9") and "unknown model 'mobilenet_v9'" in unknown and "%" not in unknown
    assert small.startswith(SMALL) and SMALL_TOP1 in small
    assert bad.startswith(str(broken)) and "is not a valid TFLite model" in bad
    assert "| mobilenet_v9 | cpu | - |" in markdown.read_text(encoding="utf-8")
    with table.open(encoding="utf-8") as f:
        exported = {r["model"]: r for r in csv.DictReader(f)}
    assert exported[SMALL]["error"] == "" and exported[SMALL]["top1_correct"] == str(REFERENCE[SMALL])
    assert exported["mobilenet_v9"]["error"].startswith("unknown model")
    rows = json.loads(_compare(capsys, SMALL, "mobilenet_v9", "--delegate", "cpu", "--json").out)
    assert [(r["model"], r["top1_correct"], bool(r["error"])) for r in rows] == [
        (SMALL, REFERENCE[SMALL], False),
        ("mobilenet_v9", 0, True),
    ]
    assert rows[1]["top1"] is None and rows[1]["p50_ms"] == 0.0


def test_plan() -> None:
    assert plan(["a", "b"], "auto", coral_attached=False) == [("a", "cpu"), ("b", "cpu")]
    assert plan(["a", "b"], "auto", coral_attached=True) == [
        ("a", "cpu"),
        ("a", "edgetpu"),
        ("b", "cpu"),
        ("b", "edgetpu"),
    ]
    assert plan(["a"], "edgetpu", coral_attached=False) == [("a", "edgetpu")]
    assert plan(["a"], "cpu", coral_attached=True) == [("a", "cpu")]


def _row(**changes: Any) -> Row:
    """A measured row; `changes` are Row fields, by name."""
    base = Row(
        model="m",
        delegate="cpu",
        size_bytes=3_610_798,
        params=3_489_099,
        input="224x224",
        quantization="uint8",
        n=100,
        top1=0.84,
        top5=0.98,
        top1_correct=84,
        top5_correct=98,
        p50_ms=8.5,
        p90_ms=9.25,
        fps=117.6,
        images_per_s=80.0,
        path="/m.tflite",
        macs=300_775_552,
        spread=0.04,
    )
    return replace(base, **changes)


def test_table_formats() -> None:
    rows = [
        _row(),
        _row(
            model="tiny",
            size_bytes=525_598,
            params=None,
            macs=None,
            n=0,
            top1=None,
            top5=None,
            top1_correct=0,
            top5_correct=0,
        ),
    ]
    text = format_table(rows).splitlines()
    assert len({len(line) for line in text[:2]}) == 1, "header and rule line up"
    assert text[2].split() == [
        "m",
        "cpu",
        "3.6",
        "MB",
        "3.49",
        "M",
        "301",
        "M",
        "224x224",
        "uint8",
        "84.0%",
        "(84/100)",
        "98.0%",
        "(98/100)",
        "8.50",
        "9.25",
        "4%",
        "118",
    ]
    assert text[3].split()[:7] == ["tiny", "cpu", "526", "kB", "-", "-", "224x224"] and text[3].split()[8:10] == [
        "-",
        "-",
    ]
    markdown = format_markdown(rows).splitlines()
    assert markdown[1] == "| --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    assert markdown[2] == (
        "| m | cpu | 3.6 MB | 3.49 M | 301 M | 224x224 | uint8 | 84.0% (84/100) | 98.0% (98/100) | 8.50 | "
        "9.25 | 4% | 118 |"
    )


def test_timing_rounds_interleave_the_models_and_measure_their_spread() -> None:
    calls: list[str] = []
    slow_round = {"b": [1]}  # model b is slowed down in round 1 only

    def timer(name: str, ms: float) -> Callable[[], float]:
        rounds_seen = {"n": 0}

        def once() -> float:
            calls.append(name)
            round_number = rounds_seen["n"] // 5
            rounds_seen["n"] += 1
            return ms * (3 if round_number in slow_round.get(name, []) else 1)

        return once

    latencies = compare_module.interleaved([timer("a", 1.0), timer("b", 2.0)], runs=15, rounds=3)
    starts = [calls[i * 10] for i in range(3)]
    assert starts == ["a", "b", "a"], "each round starts with the next model"
    assert [latency.p50_ms for latency in latencies] == [1.0, 2.0]
    assert latencies[0].spread == 0.0 and latencies[1].spread == 2.0 and latencies[1].steady_rounds


def test_a_long_error_is_cut_to_the_terminal_but_kept_whole_when_piped() -> None:
    rows = [_row(), Row.failed("broken", "cpu", "x" * 400)]
    assert all(len(line) <= 150 for line in format_table(rows, width=150).splitlines())
    assert "x" * 400 in format_table(rows)
