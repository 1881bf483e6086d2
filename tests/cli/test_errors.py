"""Every bad input of the foundation issue: exactly one line on stderr, a non-zero exit, no traceback."""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

import pytest

from tests.fakes.cli_run import assert_one_line_error, run_cli, run_module
from tests.fakes.tflite_fakes import (
    InvokeFailingInterpreter,
    fake_litert,
    install_runtimes,
    make_load_delegate,
    runtime_modules,
)
from tests.helpers.shared_data import IMAGES, MODELS

CAT = str(IMAGES / "cat.bmp")
V2 = "mobilenet_v2_1.0_224_quant"
EDGETPU_MODEL = str(MODELS / "keras_lstm_mnist_ptq_edgetpu.tflite")


def _libedgetpu_installed() -> bool:
    try:
        ctypes.CDLL("libedgetpu.so.1")
    except OSError:
        return False
    return True


no_real_libedgetpu = pytest.mark.skipif(
    _libedgetpu_installed(), reason="libedgetpu is installed here, so it cannot be missing"
)


@pytest.fixture
def broken_models(tmp_path: Path) -> dict[str, Path]:
    good = (MODELS / f"{V2}.tflite").read_bytes()
    files = {
        "empty": b"",
        "random": os.urandom(4096),
        "text": b"<html>404 Not Found</html>\n",
        "truncated": good[: len(good) // 3],
    }
    for name, data in files.items():
        (tmp_path / f"{name}.tflite").write_bytes(data)
    return {name: tmp_path / f"{name}.tflite" for name in files}


@pytest.mark.shared
def test_missing_model_file(capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli(capsys, "classify", "-m", "/no/such/model.tflite", CAT)
    assert_one_line_error(run, "model file not found: /no/such/model.tflite", "catalog name")


@pytest.mark.shared
@pytest.mark.parametrize("kind", ["empty", "truncated"])
def test_corrupt_model_file(broken_models: dict[str, Path], capsys: pytest.CaptureFixture[str], kind: str) -> None:
    run = run_cli(capsys, "classify", "-m", str(broken_models[kind]), CAT)
    assert_one_line_error(run, "is not a valid TFLite model", "edge-app models fetch --force NAME")


@pytest.mark.shared
@pytest.mark.parametrize(
    ("kind", "why", "hint"),
    [
        ("random", "it lacks the TFL3 mark", "give a .tflite file or a catalog name"),
        ("text", "it is text", "a label file goes to --labels"),
    ],
)
def test_a_file_that_is_no_model_at_all_says_so_not_download_again(
    broken_models: dict[str, Path], capsys: pytest.CaptureFixture[str], kind: str, why: str, hint: str
) -> None:
    run = run_cli(capsys, "classify", "-m", str(broken_models[kind]), CAT)
    assert_one_line_error(run, f"{broken_models[kind]} is not a TFLite model at all ({why}", hint)
    assert "fetch --force" not in run.err


@pytest.mark.shared
def test_the_label_file_given_as_the_model_points_to_labels(capsys: pytest.CaptureFixture[str]) -> None:
    labels = MODELS / "imagenet_labels.txt"
    run = run_cli(capsys, "classify", "-m", str(labels), CAT)
    assert_one_line_error(run, f"{labels} is not a TFLite model at all (it is text)", "goes to --labels")


def test_corrupt_cached_model_points_at_a_forced_fetch(model_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A cached file is trusted as is, so a damaged one needs --force to be replaced."""
    cached = model_cache / f"{V2}.tflite"
    cached.unlink()
    cached.write_bytes((MODELS / f"{V2}.tflite").read_bytes()[:1000])
    run = run_cli(capsys, "classify", "-m", V2, CAT)
    assert_one_line_error(run, f"{cached} is not a valid TFLite model", "models fetch --force")


@pytest.mark.shared
def test_edgetpu_model_without_the_delegate(capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli(capsys, "classify", "-m", EDGETPU_MODEL, "--delegate", "cpu", CAT)
    assert_one_line_error(run, "compiled for the Edge TPU", "--delegate edgetpu")


@no_real_libedgetpu
def test_delegate_edgetpu_without_the_library_for_real(model_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The real LiteRT loader on this machine, which has no libedgetpu."""
    run = run_cli(capsys, "classify", "-m", V2, "--delegate", "edgetpu", CAT)
    assert_one_line_error(run, "libedgetpu.so.1 could not be loaded", "sudo apt install libedgetpu1-std")


@pytest.mark.parametrize(
    ("outcome", "needles"),
    [
        ("no_library", ("libedgetpu.so.1 could not be loaded", "apt install libedgetpu1-std")),
        ("no_device", ("no usable Edge TPU", "plugged in", "udev rules", "plugdev")),
    ],
)
def test_delegate_edgetpu_that_cannot_load(
    model_cache: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    outcome: str,
    needles: tuple[str, ...],
) -> None:
    fake_litert(monkeypatch, outcome)
    run = run_cli(capsys, "classify", "-m", V2, "--delegate", "edgetpu", CAT)
    assert_one_line_error(run, *needles)
    assert run.out == ""


@pytest.mark.parametrize(
    ("name", "needle"),
    [
        ("missing.jpg", "no file or folder {path}; check the path"),
        ("not-an-image.jpg", "{path} is not a readable image; use a JPEG, PNG, BMP or WebP file"),
        ("empty.png", "{path} is not a readable image"),
        ("folder", "no images in folder {path}"),
    ],
)
def test_unreadable_image(
    model_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, needle: str
) -> None:
    path = tmp_path / name
    if name == "folder":
        path.mkdir()
    elif name != "missing.jpg":
        path.write_bytes(b"" if name == "empty.png" else b"GIF89a but not really")
    run = run_cli(capsys, "classify", "-m", V2, str(path))
    assert_one_line_error(run, needle.format(path=path))


def test_label_count_mismatch(model_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli(capsys, "classify", "-m", V2, "--labels", str(MODELS / "inat_bird_labels.txt"), CAT)
    assert_one_line_error(
        run, "has 965 labels but the model has 1001 outputs", "use the label file that belongs to this model"
    )


def test_missing_labels_file(model_cache: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    run = run_cli(capsys, "classify", "-m", V2, "--labels", str(tmp_path / "labels.txt"), CAT)
    assert_one_line_error(run, "cannot read labels file", "--labels")


@pytest.mark.shared
@pytest.mark.parametrize("command", ["classify", "bench", "info"])
def test_model_that_cannot_run(capsys: pytest.CaptureFixture[str], command: str) -> None:
    """../shared's model_invoking_error.tflite: this LiteRT already refuses it while preparing."""
    args = ["-m", str(MODELS / "model_invoking_error.tflite")] + ([CAT] if command == "classify" else [])
    assert_one_line_error(run_cli(capsys, command, *args), "model_invoking_error.tflite")


@pytest.mark.parametrize("command", ["classify", "bench"])
def test_model_that_fails_when_invoked(
    model_cache: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    install_runtimes(
        monkeypatch,
        litert=runtime_modules("litert", "fake", InvokeFailingInterpreter, make_load_delegate("no_library")),
    )
    args = (
        ["-m", V2, "--delegate", "cpu", "--runs", "3"] if command == "bench" else ["-m", V2, "--delegate", "cpu", CAT]
    )
    assert_one_line_error(
        run_cli(capsys, command, *args),
        f"inference failed in {V2}.tflite: tensorflow/lite/kernels/fake_op.cc:42 failed",
    )


@pytest.mark.parametrize("command", ["bench", "info"])
def test_other_commands_share_the_model_errors(capsys: pytest.CaptureFixture[str], command: str) -> None:
    assert_one_line_error(run_cli(capsys, command, "-m", "/no/such/model.tflite"), "model file not found")


# --- the same through a real process: stderr at the file-descriptor level, as a user sees it ---


@pytest.mark.shared
def test_process_missing_model() -> None:
    run = run_module("classify", "-m", "/no/such/model.tflite", CAT)
    assert run.code == 2
    assert_one_line_error(run, "model file not found")


@pytest.mark.shared
def test_process_edgetpu_model_without_the_delegate() -> None:
    """LiteRT's C++ side prints its own ERROR lines on fd 2; the user must see only ours."""
    assert_one_line_error(run_module("classify", "-m", EDGETPU_MODEL, CAT), "--delegate edgetpu")


@no_real_libedgetpu
def test_process_delegate_edgetpu_without_the_library(model_cache: Path) -> None:
    """No "Exception ignored in Delegate.__del__" either, even at interpreter exit."""
    assert_one_line_error(run_module("bench", "-m", V2, "--delegate", "edgetpu", "--runs", "1"), "libedgetpu")


# --- the entry point itself ------------------------------------------------------------------


def test_a_group_without_a_command_shows_its_help(capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli(capsys, "models")
    assert run.code == 0 and run.err == ""
    assert "Usage: edge-app models" in run.out and "fetch" in run.out


@pytest.mark.shared
@pytest.mark.parametrize(
    ("raised", "code", "err"),
    [
        (EOFError, 130, "edge-app: interrupted"),
        (KeyboardInterrupt, 130, "edge-app: interrupted"),
        (BrokenPipeError, 0, ""),
    ],
)
def test_interrupts_and_closed_pipes_are_not_tracebacks(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    raised: type[BaseException],
    code: int,
    err: str,
) -> None:
    """Ctrl-C / Ctrl-D while a model loads, or `edge-app classify ... | head -1`."""

    def interrupted(*args: object, **kwargs: object) -> None:
        raise raised()

    monkeypatch.setattr("edge_app.model.classifier.Classifier.open", interrupted)
    run = run_cli(capsys, "classify", CAT)
    assert (run.code, run.err.strip()) == (code, err)  # Typer echoes a newline after Ctrl-D


@pytest.mark.parametrize(
    "args",
    [
        *(
            ["--threads", "100000", *command]
            for command in (["classify", CAT], ["bench"], ["info"], ["run", "--source", "synthetic"])
        ),
        *(
            [option, "100000", *command]
            for option in ("--threads", "--lanes", "--workers")
            for command in (["eval", str(IMAGES)], ["compare", V2, "--data", str(IMAGES)])
        ),
    ],
    ids=lambda args: f"{args[2]} {args[0]}",
)
def test_absurd_thread_counts_are_one_line_before_anything_starts(
    capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    option, value, *command = args
    assert_one_line_error(run_cli(capsys, *command, option, value), option, "64")
