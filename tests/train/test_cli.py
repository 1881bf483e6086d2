"""`edge-app train` end to end on the shared flowers (../shared/flowers-4): real photos, real
base models, the real command; the written file is checked through `eval` and a bare interpreter."""

from __future__ import annotations

import csv
import json
import os
import re
import sys
import zipfile
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter

from tests.fakes.cli_run import CliRun, assert_one_line_error, run_cli
from tests.helpers.pictures import imread
from tests.helpers.shared_data import MODELS, SHARED

FLOWERS = SHARED / "flowers-4"
SPECIES = ["bluebell", "buttercup", "daisy", "sunflower"]
JSON_KEYS = {"n_train", "n_val", "classes", "val_top1", "best_params", "seconds"}


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Embeddings go to the test's own folder, never to the user's cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))


def _subset(root: Path, per_class: int, species: list[str] = SPECIES, split: str = "train") -> Path:
    """A class-folder tree of symlinks to the first photos of each species."""
    for name in species:
        folder = root / name
        folder.mkdir(parents=True)
        for photo in sorted((FLOWERS / split / name).iterdir())[:per_class]:
            (folder / photo.name).symlink_to(photo)
    return root


def _train(capsys: pytest.CaptureFixture[str], data: Path, out: Path, *extra: str) -> CliRun:
    return run_cli(capsys, "train", str(data), "--out", str(out), *extra)


def _train_json(capsys: pytest.CaptureFixture[str], data: Path, out: Path, *extra: str) -> dict:
    run = _train(capsys, data, out, "--json", *extra)
    assert run.code == 0, run.err
    return json.loads(run.out)


def _bare_top1(model: Path, photos: list[Path]) -> tuple[list[str], list[int]]:
    """What someone with only LiteRT, OpenCV and zipfile would do with the file."""
    with zipfile.ZipFile(model) as archive:
        labels = archive.read(archive.namelist()[0]).decode().splitlines()
    interpreter = Interpreter(model_path=str(model))
    interpreter.allocate_tensors()
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    best = []
    for photo in photos:
        image = imread(photo)
        h, w = image.shape[:2]
        ch, cw = round(h * 0.875), round(w * 0.875)
        crop = image[(h - ch) // 2 : (h - ch) // 2 + ch, (w - cw) // 2 : (w - cw) // 2 + cw]
        rgb = cv2.cvtColor(cv2.resize(crop, (224, 224), interpolation=cv2.INTER_LINEAR_EXACT), cv2.COLOR_BGR2RGB)
        interpreter.set_tensor(inp["index"], rgb[np.newaxis])
        interpreter.invoke()
        best.append(int(np.argmax(interpreter.get_tensor(out["index"])[0])))
    return labels, best


@pytest.mark.slow
@pytest.mark.parametrize("base", ["tf2_mobilenet_v2_1.0_224_ptq", "mobilenet_v2_1.0_224_quant"])
def test_trained_model_scores_the_test_photos_and_runs_bare(
    model_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], base: str
) -> None:
    out = tmp_path / "flowers.tflite"
    summary = _train_json(capsys, FLOWERS / "train", out, "--base", base)
    assert JSON_KEYS <= set(summary)
    assert summary["classes"] == {name: 30 for name in SPECIES}
    assert (summary["n_train"], summary["n_val"]) == (96, 24)
    assert summary["val_top1"] >= 0.9 and summary["best_params"]["fine_tune"] is False
    assert set(summary["seconds"]) >= {"embed", "search", "fit", "write"}
    beside = ["flowers.confusion.png", "flowers.per_class.png", "flowers.tflite"]  # nothing half-written
    assert sorted(os.listdir(tmp_path)) == [*beside, "models", "xdg"]
    assert summary["pictures"] == {"confusion": str(tmp_path / beside[0]), "per_class": str(tmp_path / beside[1])}
    assert (tmp_path / beside[0]).read_bytes().startswith(b"\x89PNG")

    evaluation = _eval(capsys, out, tmp_path)
    assert evaluation["n"] == 40 and evaluation["top1"] >= 0.95

    with open(evaluation["files"]["predictions.csv"], encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    labels, bare = _bare_top1(out, [Path(row["file"]) for row in rows])
    assert labels == SPECIES
    assert bare == [int(row["predicted"]) for row in rows]


@pytest.mark.slow
def test_fine_tune_reports_both_and_keeps_the_better(
    model_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("jax")
    out = tmp_path / "tuned.tflite"
    summary = _train_json(capsys, FLOWERS / "train", out, "--fine-tune", "1", "--no-augment")
    head_only, tuned = summary["candidates"]
    assert (head_only["name"], tuned["name"]) == ("head only", "fine-tuned")
    keep = (tuned["val_top1"], -tuned["val_log_loss"]) >= (head_only["val_top1"], -head_only["val_log_loss"])
    assert tuned["kept"] is keep and summary["best_params"]["fine_tune"] is keep
    assert summary["val_top1"] == max(head_only["val_top1"], tuned["val_top1"])
    assert "fine-tune" in summary["seconds"]
    assert _eval(capsys, out, tmp_path)["top1"] >= 0.95


def test_report_and_cache(model_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _subset(tmp_path / "data", 5, SPECIES[:2])
    (data / SPECIES[0] / "broken.jpg").write_bytes(b"not a jpeg")
    (data / "notes.txt").write_text("not a photo")
    first = _train(capsys, data, tmp_path / "a.tflite", "--no-augment", "--cache", str(tmp_path / "cache"))
    assert first.code == 0, first.err
    for text in (
        "photos  train   val  class",
        "n_train 8, n_val 2",
        "hyperparameter search",
        "<- chosen",
        "top-1",
        "confusion matrix",
        "seconds: ",
    ):
        assert text in first.out, text
    assert (
        "broken.jpg is not a readable image" in first.out and "1 unreadable" in first.out and "1 non image" in first.out
    )
    again = _train_json(capsys, data, tmp_path / "b.tflite", "--no-augment", "--cache", str(tmp_path / "cache"))
    assert again["backbone_runs"] == 0  # every embedding came from the cache
    assert again["unreadable"] == [f"{data / SPECIES[0] / 'broken.jpg'} is not a readable image"]
    assert (tmp_path / "a.tflite").read_bytes() == (tmp_path / "b.tflite").read_bytes()  # deterministic
    augmented = _train_json(capsys, data, tmp_path / "c.tflite", "--cache", str(tmp_path / "cache"))
    assert augmented["backbone_runs"] == 2 * 10  # only the new views ran


def test_separate_validation_set(model_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _subset(tmp_path / "train", 4, SPECIES[:3])
    val = _subset(tmp_path / "val", 2, SPECIES[:3], "test")
    summary = _train_json(capsys, data, tmp_path / "m.tflite", "--val", str(val), "--no-augment")
    assert (summary["n_train"], summary["n_val"]) == (12, 6) and summary["refit_photos"] == 12


# --- bad input: one line, exit 2, nothing written ---------------------------------------------


def _assert_refused(run: CliRun, out: Path, *needles: str) -> None:
    assert run.code == 2
    assert_one_line_error(run, *needles)
    assert not out.exists() and not [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}")]


def test_one_class_is_refused(model_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _subset(tmp_path / "data", 5, ["daisy"])
    out = tmp_path / "m.tflite"
    _assert_refused(_train(capsys, data, out), out, "only 1 class ('daisy')", "at least 2")


def test_a_class_too_small_for_the_split_is_refused(
    model_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _subset(tmp_path / "data", 3, ["daisy", "sunflower"])
    for photo in list((data / "daisy").iterdir())[1:]:
        photo.unlink()
    out = tmp_path / "m.tflite"
    _assert_refused(_train(capsys, data, out), out, "'daisy' (1)", "--val")


def test_unwritable_output_is_refused_before_any_work(
    model_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = tmp_path / "cache"
    run = _train(capsys, FLOWERS / "train", tmp_path / "missing" / "m.tflite", "--cache", str(cache))
    assert_one_line_error(run, "folder", "does not exist")
    assert not cache.exists()  # refused before the backbone ran
    run = _train(capsys, FLOWERS / "train", tmp_path, "--cache", str(cache))
    assert_one_line_error(run, "it is a folder")


@pytest.mark.parametrize(
    ("model", "found"),
    [
        (
            "mobilenet_v1_1.0_224_quant_embedding_extractor.tflite",
            "found DEPTHWISE_CONV_2D -> CONV_2D -> DEPTHWISE_CONV_2D -> CONV_2D -> AVERAGE_POOL_2D",
        ),
        ("keras_lstm_mnist_ptq_edgetpu.tflite", "found CUSTOM (edgetpu-custom-op)"),
    ],
)
def test_a_base_without_the_expected_head_is_refused(
    model_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], model: str, found: str
) -> None:
    out = tmp_path / "m.tflite"
    run = _train(capsys, FLOWERS / "train", out, "--base", str(MODELS / model), "--cache", str(tmp_path / "cache"))
    _assert_refused(run, out, model, "pooled embedding -> CONV_2D 1x1 -> RESHAPE -> SOFTMAX", found)
    assert not (tmp_path / "cache").exists()


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--val-split", "1.5"], "bad --val-split 1.5"),
        (["--val-split", "0.2", "--val", str(FLOWERS / "test")], "--val and --val-split exclude each other"),
        (["--val", str(FLOWERS / "test" / "daisy")], "but no class folders"),
        (["--fine-tune", "--seed", "1"], "not '--seed': --fine-tune 1 trains the last 1x1 block"),  # a bare --fine-tune
        (["--fine-tune", "-1"], "takes the number of blocks to train, not '-1'"),
        (["--fine-tune"], "'--fine-tune' requires an argument"),
    ],
)
def test_bad_options_are_one_line(
    model_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], needle: str
) -> None:
    out = tmp_path / "m.tflite"
    _assert_refused(_train(capsys, FLOWERS / "train", out, *extra), out, needle)


def test_validation_classes_must_be_training_classes(
    model_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _subset(tmp_path / "data", 3, SPECIES[:2])
    out = tmp_path / "m.tflite"
    _assert_refused(
        _train(capsys, data, out, "--val", str(FLOWERS / "test")), out, "classes that DATA does not", "daisy"
    )


def test_ctrl_c_while_embedding_says_how_far_it_got_and_writes_nothing(
    model_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from edge_app.train import embed

    real = embed._Embedder.run
    seen: list[object] = []

    def run(self: embed._Embedder, path: Path) -> object:
        if len(seen) >= 5:
            raise KeyboardInterrupt
        seen.append(path)
        return real(self, path)

    monkeypatch.setattr(embed._Embedder, "run", run)
    out = tmp_path / "mine.tflite"
    result = _train(
        capsys, FLOWERS / "train", out, "--no-augment", "--workers", "1", "--cache", str(tmp_path / "cache")
    )
    assert result.code == 130 and re.fullmatch(r"edge-app: interrupted after \d+ of 120 photos\n", result.err), (
        result.err
    )
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".mine")]


# --- fine-tuning the top blocks and the search (JAX) ------------------------------------------

TRIAL_PARAMS = {"lr", "batch_size", "epochs", "weight_decay", "blocks", "augment"}


def _correct(model: Path) -> int:
    """Test photos of flowers-4 a bare interpreter gets right with the model's embedded labels."""
    photos = [(photo, name) for name in SPECIES for photo in sorted((FLOWERS / "test" / name).iterdir())]
    labels, best = _bare_top1(model, [photo for photo, _ in photos])
    assert labels == SPECIES
    return sum(labels[i] == name for i, (_, name) in zip(best, photos))


@pytest.mark.slow
def test_the_search_keeps_up_with_the_head_alone_and_the_same_seed_chooses_the_same(
    model_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 20's check: --fine-tune 2 --search random --trials 8 on 30 photos per species does
    no worse than the head alone on the held-out test photos, give or take one photo."""
    pytest.importorskip("jax")
    cache = ["--cache", str(tmp_path / "c")]
    search = ["--fine-tune", "2", "--search", "random", "--trials", "8", "--seed", "3", *cache]
    out = tmp_path / "searched.tflite"
    summary = _train_json(capsys, FLOWERS / "train", out, *search)
    trials = summary["trials"]
    assert len(trials) == 8 and all(set(t["params"]) == TRIAL_PARAMS for t in trials)
    assert all(
        0 <= t["val_top1"] <= 1 and t["val_loss"] > 0 and 1 <= t["best_epoch"] <= t["epochs_run"] for t in trials
    )
    assert {t["params"]["blocks"] for t in trials} == {1, 2}
    assert all(t["epochs_run"] < t["params"]["epochs"] for t in trials if t["pruned"])
    best = max(reversed(trials), key=lambda t: (t["val_top1"], -t["val_loss"]))
    assert {k: v for k, v in summary["best_params"].items() if k in TRIAL_PARAMS} == best["params"]
    curves = summary["curves"]
    assert set(curves) == {"train_loss", "train_top1", "val_loss", "val_top1"}
    assert {len(v) for v in curves.values()} == {best["epochs_run"]}
    assert Path(summary["pictures"]["curves"]).read_bytes().startswith(b"\x89PNG")
    assert [c["name"] for c in summary["candidates"]] == ["head only", "fine-tuned"]

    head_only = tmp_path / "head.tflite"
    assert _train(capsys, FLOWERS / "train", head_only, "--seed", "3", *cache).code == 0
    assert _correct(out) >= _correct(head_only) - 1

    again = tmp_path / "again.tflite"
    text = _train(capsys, FLOWERS / "train", again, *search)  # from the cache: the trials alone run again
    assert text.code == 0, text.err
    for needle in ("fine-tuning trials", "val top-1", "val loss", "head alone vs the chosen trial"):
        assert needle in text.out, needle
    table = text.out.split("fine-tuning trials")[1].split("\n\n")[0]
    chosen = [line.split()[0] for line in table.splitlines() if line.endswith("<- chosen")]
    assert chosen == [str(trials.index(best) + 1)]
    assert again.read_bytes() == out.read_bytes()


@pytest.mark.slow
def test_a_fine_tuned_model_runs_bare_and_agrees_with_eval_photo_for_photo(
    model_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("jax")
    from edge_app.train.trainer import TrainOptions, train

    data = _subset(tmp_path / "data", 8, SPECIES)
    result = train(TrainOptions(data, tmp_path / "m.tflite", fine_tune=3, augment=False, cache=tmp_path / "c"))
    tuned = result.candidates[-1]
    assert tuned.name == "fine-tuned" and tuned.block is not None and tuned.block.blocks == 3
    model = tmp_path / "tuned.tflite"
    model.write_bytes(tuned.model)
    evaluation = _eval(capsys, model, tmp_path)
    assert evaluation["top1"] >= 0.75
    with open(evaluation["files"]["predictions.csv"], encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    labels, bare = _bare_top1(model, [Path(row["file"]) for row in rows])
    assert labels == SPECIES and bare == [int(row["predicted"]) for row in rows]


@pytest.mark.slow
@pytest.mark.parametrize("keep", [True, False])
def test_ctrl_c_during_the_trials_keeps_the_best_so_far_only_when_asked(
    model_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, keep: bool
) -> None:
    pytest.importorskip("jax")
    from edge_app.train import finetune

    real = finetune.Program.train
    ran: list[int] = []

    def train(self: finetune.Program, *args: object, **kwargs: object) -> finetune.FineTuned:
        if ran:
            raise KeyboardInterrupt
        ran.append(1)
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(finetune.Program, "train", train)
    data = _subset(tmp_path / "data", 4, SPECIES[:2])
    out = tmp_path / "mine.tflite"
    flags = ["--fine-tune", "1", "--search", "grid", "--trials", "3", "--no-augment", "--cache", str(tmp_path / "c")]
    run = _train(capsys, data, out, *flags, *(["--keep-best-on-interrupt", "--json"] if keep else []))
    if keep:
        assert run.code == 0, run.err
        summary = json.loads(run.out)
        assert summary["interrupted"] is True and len(summary["trials"]) == 1 and out.is_file()
        assert "interrupted after 1 of 3 trials" in run.err
    else:
        assert run.code == 130 and run.err == "edge-app: interrupted after 1 of 3 trials\n", run.err
        assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".mine")]


def test_search_needs_fine_tuning_and_fine_tuning_its_extra(
    model_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "m.tflite"
    _assert_refused(_train(capsys, FLOWERS / "train", out, "--search", "random"), out, "--search tunes fine-tuning")
    monkeypatch.setitem(sys.modules, "jax", None)  # as if the finetune extra were not installed
    run = _train(capsys, FLOWERS / "train", out, "--fine-tune", "2", "--cache", str(tmp_path / "cache"))
    _assert_refused(run, out, "--fine-tune needs JAX and optax", "edge-app[finetune]")
    assert not (tmp_path / "cache").exists()  # refused before the backbone ran


def test_too_many_blocks_say_how_many_there_are(
    model_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("jax")
    out = tmp_path / "m.tflite"
    run = _train(capsys, FLOWERS / "train", out, "--fine-tune", "40", "--cache", str(tmp_path / "cache"))
    _assert_refused(run, out, "--fine-tune 40", "use --fine-tune")


@pytest.mark.parametrize("bad", ["bad\nlabel", "line\u2028separator", "para\u2029graph", "bell\x07"])
def test_a_class_folder_whose_name_breaks_the_label_file_is_one_line_naming_it(
    model_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    data = _subset(tmp_path / "data", 3, ["daisy", "sunflower"])
    os.rename(data / "daisy", data / bad)
    out = tmp_path / "m.tflite"
    run = _train(capsys, data, out)
    _assert_refused(run, out, "class folder", "line break or control character", "rename it")
    assert repr(str(data / bad)) in run.err


def test_a_model_that_does_not_read_back_is_never_written() -> None:
    from edge_app.errors import EdgeAppError
    from edge_app.model.labels import embedded_labels
    from edge_app.train.output import check_reads_back
    from edge_app.train.surgery import with_labels

    model = (MODELS / "mobilenet_v2_1.0_224_quant.tflite").read_bytes()
    found = embedded_labels(model)
    assert found is not None
    check_reads_back(model, [found[i] for i in range(len(found))])  # a sound model passes
    flatbuffer = model[: model.index(b"PK\x03\x04")]
    with pytest.raises(EdgeAppError, match="labels"):
        check_reads_back(with_labels(flatbuffer, ["a\u2028b"] + [str(i) for i in range(1000)]), ["a\u2028b"])
    with pytest.raises(EdgeAppError):
        check_reads_back(flatbuffer[: len(flatbuffer) // 2], ["x"])  # truncated: does not load


def _eval(capsys: pytest.CaptureFixture[str], model: Path, tmp_path: Path) -> dict[str, Any]:
    """`edge-app eval --json` of `model` on flowers-4's test photos."""
    run = run_cli(
        capsys,
        "eval",
        str(FLOWERS / "test"),
        "-m",
        str(model),
        "--delegate",
        "cpu",
        "--out",
        str(tmp_path / "eval"),
        "--json",
    )
    assert run.code == 0, run.err
    evaluation: dict[str, Any] = json.loads(run.out)
    return evaluation
