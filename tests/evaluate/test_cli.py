"""`edge-app eval` end to end with real models and the shared ImageNet photos.

Class-folder trees are built in tmp_path from symlinks to ../shared/imagenet-100, so the CSV
form and the folder forms see exactly the same files.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest

from edge_app.evaluate.dataset import scan
from edge_app.evaluate.evaluation import evaluate
from edge_app.model.classifier import Classifier, ModelOptions
from edge_app.progress import Progress
from tests.fakes.cli_run import CliRun, assert_one_line_error, run_cli
from tests.helpers.pictures import imread
from tests.helpers.shared_data import IMAGENET100, IMAGENET100_TOP1

V2 = "mobilenet_v2_1.0_224_quant"
SMALL = "mobilenet_v1_0.25_128_quant"
V2_TOP1, SMALL_TOP1 = IMAGENET100_TOP1[V2][0], IMAGENET100_TOP1[SMALL][0]  # central crop, out of 100
MANIFEST = IMAGENET100 / "labels.csv"
SUMMARY_KEYS = {"n", "top1", "top5", "macro_precision", "macro_recall", "macro_f1", "weighted_f1"}


def _manifest_rows() -> list[dict[str, str]]:
    with MANIFEST.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _tree(root: Path, name_by: str, rows: list[dict[str, str]] | None = None) -> Path:
    """imagenet-100 (or some of its rows) as class folders named by label text or by class index."""
    for row in rows or _manifest_rows():
        folder = root / row[name_by]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / row["file"]).symlink_to(IMAGENET100 / row["file"])
    return root


def _eval(capsys: pytest.CaptureFixture[str], data: Path, model: str, out: Path, *extra: str) -> CliRun:
    return run_cli(capsys, "eval", str(data), "-m", model, "--delegate", "cpu", "--out", str(out), *extra)


def _eval_json(capsys: pytest.CaptureFixture[str], data: Path, model: str, out: Path) -> dict:
    run = _eval(capsys, data, model, out, "--json")
    assert run.code == 0, run.err
    return json.loads(run.out)


def test_v2_matches_the_reference_and_classify_image_by_image(
    model_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = _eval_json(capsys, MANIFEST, V2, tmp_path / "out")
    assert SUMMARY_KEYS <= set(summary)
    assert (summary["n"], summary["top1_correct"]) == (100, V2_TOP1), "the reference, with the default crop"
    assert summary["top1"] == pytest.approx(V2_TOP1 / 100) and summary["top5"] >= summary["top1"]
    assert summary["skipped"] == {"non_image": 0, "unreadable": 0, "unknown_label": 0}
    with open(summary["files"]["predictions.csv"], encoding="utf-8") as f:
        predictions = {Path(row["file"]).name: row for row in csv.DictReader(f)}
    assert len(predictions) == 100

    classify = run_cli(
        capsys,
        "classify",
        "-m",
        V2,
        "--delegate",
        "cpu",
        "-k",
        "1",
        "--json",
        *(str(IMAGENET100 / n) for n in sorted(predictions)),
    )
    assert classify.code == 0, classify.err
    for item in json.loads(classify.out):
        row = predictions[Path(item["image"]).name]
        assert int(row["predicted"]) == item["top"][0]["index"], item["image"]
        assert float(row["score"]) == pytest.approx(item["top"][0]["score"], abs=1e-6)

    sklearn_metrics = pytest.importorskip(
        "sklearn.metrics", reason="scikit-learn is the reference (pip install -e .[test])"
    )
    truth = [int(r["truth"]) for r in predictions.values()]
    predicted = [int(r["predicted"]) for r in predictions.values()]
    assert sum(int(r["correct"]) for r in predictions.values()) == V2_TOP1
    for average in ("macro", "weighted"):  # over the classes of the data, not the 15 only predicted
        p, r, f1, _ = sklearn_metrics.precision_recall_fscore_support(
            truth, predicted, labels=sorted(set(truth)), average=average, zero_division=0
        )
        assert (
            summary[f"{average}_precision"],
            summary[f"{average}_recall"],
            summary[f"{average}_f1"],
        ) == pytest.approx((p, r, f1), abs=1e-6)
    assert (summary["classes"], summary["averages_over"]) == (100, "truth classes"), (
        "100 photos of 100 classes: 100 classes"
    )
    extra = summary["predicted_only"]
    assert extra["classes"] == len(set(predicted) - set(truth)) == 15 and extra["images"] == sum(
        p not in set(truth) for p in predicted
    )
    assert len(extra["most_predicted"]) == 10 and all(
        set(c) == {"index", "label", "predicted"} for c in extra["most_predicted"]
    )


def test_class_folders_by_text_or_index_and_the_manifest_give_the_same_numbers(
    model_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    by_text = _tree(tmp_path / "by_text", "label")
    by_index = _tree(tmp_path / "by_index", "class_index")
    results = [_eval_json(capsys, data, SMALL, tmp_path / data.name) for data in (MANIFEST, by_text, by_index)]
    numbers = [
        {k: v for k, v in r.items() if k not in {"data", "form", "files", "images_per_s", "invoke_p50_ms"}}
        for r in results
    ]
    assert numbers[0]["n"] == 100 and numbers[0]["top1_correct"] == SMALL_TOP1, "the reference"
    assert numbers[1] == numbers[0]
    assert numbers[2] == numbers[0]
    assert [r["form"] for r in results] == ["CSV manifest", "class folders", "class folders"]


def test_skipped_files_are_counted_and_reported_not_fatal(
    model_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = _manifest_rows()[:4]
    data = _tree(tmp_path / "data", "label", rows)
    first = data / rows[0]["label"]
    (first / "notes.txt").write_text("not a photo")
    (first / "broken.jpg").write_bytes(b"\xff\xd8 truncated")
    (data / "unicorn").mkdir()
    (data / "unicorn" / "u.png").symlink_to(IMAGENET100 / rows[1]["file"])
    summary = _eval_json(capsys, data, SMALL, tmp_path / "out")
    assert summary["n"] == 4
    assert summary["skipped"] == {"non_image": 1, "unreadable": 1, "unknown_label": 1}
    assert summary["unknown_labels"] == {"unicorn": 1}
    assert "broken.jpg is not a readable image" in summary["unreadable_files"][0]

    run = _eval(capsys, data, SMALL, tmp_path / "out")
    assert run.code == 0
    assert "skipped 3: 1 non image, 1 unreadable, 1 unknown label" in run.out
    assert "'unicorn' (1)" in run.out and "broken.jpg" in run.out


def test_text_report_and_files(model_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = _eval(capsys, MANIFEST, SMALL, tmp_path / "out")
    assert run.code == 0 and run.err == ""
    assert f"top-1  {SMALL_TOP1:.1f}% ({SMALL_TOP1}/100)" in run.out
    assert ": 100 images, 100 classes; nothing skipped" in run.out.splitlines()[0]
    assert f" evaluated on {MANIFEST} (" in run.out.splitlines()[0]  # not "X on data": it reads as trained on it
    assert "averages over the 100 classes in the data" in run.out
    assert "also predicted, not in the data (so not averaged): " in run.out
    assert "macro" in run.out and "weighted" in run.out and "most confused (truth -> predicted):" in run.out
    assert "weakest 20 of" in run.out, "many classes: the weakest are listed, all are in per_class.csv"
    for name in ("confusion.csv", "per_class.csv", "predictions.csv"):
        assert (tmp_path / "out" / name).stat().st_size > 0
    image = imread(tmp_path / "out" / "confusion.png")
    assert min(image.shape[:2]) > 500
    with (tmp_path / "out" / "confusion.csv").open(encoding="utf-8") as f:
        matrix = np.array([row[1:] for row in list(csv.reader(f))[1:]], dtype=int)
    assert matrix.sum() == 100 and np.trace(matrix) == SMALL_TOP1


def test_progress_bar_on_a_terminal(model_cache: Path) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    classifier = Classifier.open(ModelOptions(model=SMALL, delegate="cpu", threads=1))
    stream = Terminal()
    with Progress(None, "eval small", stream=stream) as progress:
        evaluation = evaluate([classifier], scan(MANIFEST), workers=2, progress=progress)
    assert evaluation.metrics.n == 100
    assert "eval small [" in stream.getvalue() and "100% 100/100" in stream.getvalue()


def test_default_output_folder_is_named_after_the_model(
    model_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _tree(tmp_path / "data", "label", _manifest_rows()[:2])
    monkeypatch.chdir(tmp_path)
    run = run_cli(capsys, "eval", str(data), "-m", SMALL, "--delegate", "cpu")
    assert run.code == 0
    assert (tmp_path / "edge-app-eval" / SMALL / "confusion.png").is_file()


def test_user_mistakes_are_one_line(model_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert_one_line_error(_eval(capsys, tmp_path / "nope", SMALL, tmp_path / "out"), "dataset not found")
    (tmp_path / "zebra_unicorn").mkdir()
    (tmp_path / "zebra_unicorn" / "a.jpg").symlink_to(IMAGENET100 / _manifest_rows()[0]["file"])
    assert_one_line_error(_eval(capsys, tmp_path, SMALL, tmp_path / "out"), "none of the labels", "'zebra_unicorn'")
    bad = tmp_path / "bad.csv"
    bad.write_text("picture,species\na.jpg,cat\n")
    assert_one_line_error(_eval(capsys, bad, SMALL, tmp_path / "out"), "needs a file column")
    empty = tmp_path / "empty"
    (empty / "cat").mkdir(parents=True)
    assert_one_line_error(_eval(capsys, empty, SMALL, tmp_path / "out"), "no images found")
    broken = tmp_path / "broken"
    (broken / "tench").mkdir(parents=True)
    (broken / "tench" / "x.jpg").write_bytes(b"nope")
    assert_one_line_error(_eval(capsys, broken, SMALL, tmp_path / "out"), "could be read", "x.jpg")
    occupied = tmp_path / "occupied"
    occupied.write_text("a file where the output folder should go")
    assert_one_line_error(_eval(capsys, MANIFEST, SMALL, occupied), f"cannot write {occupied}")
