"""The runtime import chain (LiteRT -> tflite_runtime -> tensorflow.lite), with fake modules."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from ai_edge_litert import interpreter as real_litert

from edge_app.errors import EdgeAppError
from edge_app.model.runtime import load_runtime
from tests.fakes.cli_run import assert_one_line_error, run_cli, run_module
from tests.fakes.tflite_fakes import (
    ABI_FAILURES,
    RecordingInterpreter,
    install_runtimes,
    make_load_delegate,
    runtime_modules,
    write_numpy2_broken_tflite_runtime,
)
from tests.helpers.shared_data import IMAGES


def _modules(name: str) -> dict:
    return runtime_modules(name, f"{name}-fake", RecordingInterpreter, make_load_delegate("no_library"))


def test_litert_is_first_choice() -> None:
    runtime = load_runtime()
    assert runtime.name == "litert"
    assert runtime.Interpreter is real_litert.Interpreter
    assert runtime.load_delegate is real_litert.load_delegate


def test_without_litert_tflite_runtime_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    install_runtimes(
        monkeypatch, litert=None, tflite_runtime=_modules("tflite_runtime"), tensorflow=_modules("tensorflow")
    )
    runtime = load_runtime()
    assert (runtime.name, runtime.version) == ("tflite_runtime", "tflite_runtime-fake")
    assert runtime.Interpreter is RecordingInterpreter


def test_without_litert_and_tflite_runtime_tensorflow_lite_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    tensorflow = _modules("tensorflow")
    install_runtimes(monkeypatch, litert=None, tflite_runtime=None, tensorflow=tensorflow)
    runtime = load_runtime()
    assert (runtime.name, runtime.version) == ("tensorflow", "tensorflow-fake")
    assert runtime.load_delegate is tensorflow["tensorflow"].lite.experimental.load_delegate


def test_no_runtime_at_all_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    install_runtimes(monkeypatch, litert=None, tflite_runtime=None, tensorflow=None)
    with pytest.raises(EdgeAppError, match=r"no TFLite runtime found .*; pip install ai-edge-litert"):
        load_runtime()


@pytest.mark.parametrize("forced", ["tflite_runtime", "tensorflow"])
def test_runtime_option_forces_one_even_when_litert_is_there(monkeypatch: pytest.MonkeyPatch, forced: str) -> None:
    install_runtimes(monkeypatch, **{forced: _modules(forced)})
    assert load_runtime(forced).name == forced


def test_forcing_a_missing_runtime_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    install_runtimes(monkeypatch, tensorflow=None)
    with pytest.raises(EdgeAppError, match=r"tensorflow is not installed\); pip install tensorflow, or drop --runtime"):
        load_runtime("tensorflow")


def test_unknown_runtime_name() -> None:
    with pytest.raises(
        EdgeAppError, match="unknown runtime 'tflite'; use one of: auto, litert, tflite_runtime, tensorflow"
    ):
        load_runtime("tflite")


@pytest.fixture(params=sorted(ABI_FAILURES))
def numpy2_broken_tflite_runtime(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """tflite-runtime 2.14 on NumPy 2, in both ways its import is seen to fail."""
    root = write_numpy2_broken_tflite_runtime(tmp_path / "site", request.param)
    monkeypatch.syspath_prepend(str(root))
    for name in ("tflite_runtime", "tflite_runtime.interpreter"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    return root


def test_numpy2_abi_break_is_one_clear_line(
    numpy2_broken_tflite_runtime: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    install_runtimes(monkeypatch, litert=None, tensorflow=None)
    with pytest.raises(EdgeAppError) as err:
        load_runtime()
    message = str(err.value)
    assert "tflite-runtime was built for NumPy 1.x" in message
    assert "pip install ai-edge-litert" in message and "numpy<2" in message
    captured = capsys.readouterr()
    assert captured.err == "", "NumPy's own warning and stack trace must not reach the user"


@pytest.mark.shared
def test_numpy2_abi_break_via_the_cli(numpy2_broken_tflite_runtime: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli(capsys, "classify", "--runtime", "tflite_runtime", str(IMAGES / "cat.bmp"))
    assert_one_line_error(run, "NumPy 1.x", "pip install ai-edge-litert")


def test_numpy2_abi_break_in_a_real_process(tmp_path: Path) -> None:
    """Through `python -m edge_app`, where NumPy writes straight to the process's stderr."""
    root = write_numpy2_broken_tflite_runtime(tmp_path / "site", "import")
    run = run_module("bench", "--runtime", "tflite_runtime", env={"PYTHONPATH": str(root)})
    assert_one_line_error(run, "tflite-runtime was built for NumPy 1.x", "numpy<2")


def test_a_broken_runtime_falls_through_to_the_next(
    numpy2_broken_tflite_runtime: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_runtimes(monkeypatch, litert=None, tensorflow=_modules("tensorflow"))
    assert load_runtime().name == "tensorflow"


def test_a_working_runtime_import_keeps_its_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Holding stderr back during the import must not swallow warnings of a runtime that loads."""
    package = tmp_path / "tflite_runtime"
    package.mkdir()
    (package / "__init__.py").write_text("__version__ = '2.14.0'\n")
    (package / "interpreter.py").write_text(
        "import sys\nsys.stderr.write('a deprecation notice\\n')\nInterpreter = object\ndef "
        "load_delegate(library, options=None): pass\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("tflite_runtime", "tflite_runtime.interpreter"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    assert load_runtime("tflite_runtime").version == "2.14.0"
    assert capsys.readouterr().err == "a deprecation notice\n"


def test_classify_runs_on_the_fallback_runtime(
    model_cache: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    RecordingInterpreter.created.clear()
    install_runtimes(monkeypatch, litert=None, tflite_runtime=_modules("tflite_runtime"))
    run = run_cli(
        capsys,
        "classify",
        "-m",
        "mobilenet_v2_1.0_224_quant",
        "--delegate",
        "cpu",
        "--threads",
        "1",
        "--top-k",
        "1",
        str(IMAGES / "parrot.jpg"),
    )
    assert run.code == 0, run.err
    assert "macaw" in run.out
    assert RecordingInterpreter.created == [
        {"model_path": str(model_cache / "mobilenet_v2_1.0_224_quant.tflite"), "delegates": [], "num_threads": 1}
    ]
