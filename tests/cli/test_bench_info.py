"""`edge-app bench` and `edge-app info`."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from types import ModuleType

import pytest

from edge_app.model.bench import invoke_times, summarize
from edge_app.model.classifier import Classifier, ModelOptions
from edge_app.sources import discovery
from tests.fakes.cli_run import run_cli
from tests.fakes.tflite_fakes import RecordingInterpreter, install_runtimes, make_load_delegate, runtime_modules
from tests.helpers.picamera2_fixtures import picamera2  # noqa: F401  (fixture)

TINY = "mobilenet_v1_0.25_128_quant"


def test_bench_json(model_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli(
        capsys, "bench", "-m", TINY, "--threads", "1", "--runs", "7", "--warmup", "1", "--delegate", "cpu", "--json"
    )
    assert run.code == 0 and run.err == ""
    result = json.loads(run.out)
    assert {"p50_ms", "p90_ms", "p99_ms", "runs", "threads", "delegate", "runtime"} <= set(result)
    assert (result["runs"], result["threads"], result["delegate"]) == (7, 1, "cpu")
    assert result["runtime"].startswith("litert ")
    assert 0 < result["p50_ms"] <= result["p90_ms"] <= result["p99_ms"]


def test_bench_text(model_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli(capsys, "bench", "-m", TINY, "--threads", "2", "--runs", "5", "--delegate", "cpu")
    assert run.code == 0
    assert (
        run.out.startswith(f"{TINY} on litert ") and "2 threads, 5 runs: p50 " in run.out and "inferences/s" in run.out
    )


def test_bench_warns_about_more_threads_than_cores_and_counts_in_words(
    model_cache: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    run = run_cli(capsys, "bench", "-m", TINY, "--threads", "4", "--runs", "3", "--delegate", "cpu")
    assert run.code == 0 and "4 threads, 3 runs" in run.out
    assert run.err.splitlines() == [
        "edge-app: warning: --threads 4 is more than the 2 cores here: the extra threads only wait for a "
        "core, and the timing suffers"
    ]
    one = run_cli(capsys, "bench", "-m", TINY, "--threads", "1", "--runs", "3", "--delegate", "cpu")
    assert ", 1 thread, 3 runs" in one.out and one.err == ""


class CountingInterpreter(RecordingInterpreter):
    invokes = 0

    def invoke(self) -> None:
        CountingInterpreter.invokes += 1
        super().invoke()


def _fake_litert(monkeypatch: pytest.MonkeyPatch, interpreter: type) -> None:
    install_runtimes(
        monkeypatch, litert=runtime_modules("litert", "fake", interpreter, make_load_delegate("no_library"))
    )


def test_threads_default_to_every_core(model_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: 3)
    RecordingInterpreter.created.clear()
    _fake_litert(monkeypatch, RecordingInterpreter)
    classifier = Classifier.open(ModelOptions(model=TINY, delegate="cpu"))
    assert classifier.info.threads == 3 and RecordingInterpreter.created[-1]["num_threads"] == 3


def test_bench_times_only_invoke(model_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_litert(monkeypatch, CountingInterpreter)
    classifier = Classifier.open(ModelOptions(model=TINY, delegate="cpu", threads=1))
    CountingInterpreter.invokes = 0
    times = invoke_times(classifier, runs=6, warmup=2)
    assert len(times) == 6 and (times > 0).all()
    assert CountingInterpreter.invokes == 1 + 2 + 6, "one checked invoke, the warm-up, then the timed runs"
    result = summarize(classifier, times)
    assert result.runs == 6 and result.model == TINY and result.threads == 1


def test_info_json(model_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli(capsys, "info", "-m", "mobilenet_v2_1.0_224_quant", "--delegate", "cpu", "--threads", "2", "--json")
    assert run.code == 0 and run.err == ""
    report = json.loads(run.out)
    assert report["runtime"] == "litert" and report["runtime_version"]
    model = report["model"]
    assert model["name"] == "mobilenet_v2_1.0_224_quant"
    assert model["path"] == str(model_cache / "mobilenet_v2_1.0_224_quant.tflite")
    assert (model["delegate"], model["threads"]) == ("cpu", 2)
    assert model["input_shape"] == [1, 224, 224, 3] and model["input_type"] == "uint8"
    assert model["input_quantization"] == {"scale": 0.0078125, "zero_point": 128}
    assert (model["outputs"], model["output_type"], model["labels"]) == (1001, "uint8", 1001)
    assert model["labels_source"] == "embedded in mobilenet_v2_1.0_224_quant.tflite"
    assert report["edgetpu"]["library"] == "libedgetpu.so.1"
    assert isinstance(report["edgetpu"]["library_found"], bool) and isinstance(report["edgetpu"]["devices"], list)
    assert isinstance(report["cameras"], list)


def test_info_text(model_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli(capsys, "info", "-m", "mobilenet_v2_1.0_224_inat_bird_quant", "--delegate", "cpu")
    assert run.code == 0
    lines = {line.split()[0]: line for line in run.out.splitlines()}
    assert lines["runtime"].startswith("runtime     litert ")
    assert "[1, 224, 224, 3] uint8, scale 0.0078125, zero point 128" in lines["input"]
    assert "965 x uint8, 965 labels" in lines["output"]
    assert lines["edge"].startswith("edge tpu    library libedgetpu.so.1")
    assert "cameras" in lines


@pytest.fixture
def pi_with_webcam(picamera2: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A ribbon camera, and a USB webcam that both libcamera and V4L2 list."""
    picamera2.Picamera2.cameras_info = [
        {"Model": "imx708", "Id": "/base/soc/i2c0mux/i2c@1/imx708@1a"},
        {"Model": "C525", "Id": "/base/axi/pcie@120000/rp1/usb@200000-1:1.0-046d:0826"},
    ]
    sysfs = tmp_path / "video4linux"
    for node, name in (("video0", "rp1-cfe"), ("video8", "HD Webcam C525")):
        (sysfs / node).mkdir(parents=True)
        (sysfs / node / "name").write_text(name + "\n")
    monkeypatch.setattr(discovery, "list_cameras", functools.partial(discovery.list_cameras, sysfs))


def test_info_lists_each_camera_once_with_the_option_that_selects_it(
    model_cache: Path, capsys: pytest.CaptureFixture[str], pi_with_webcam: None
) -> None:
    run = run_cli(capsys, "info", "-m", TINY, "--delegate", "cpu", "--json")
    assert run.code == 0
    assert json.loads(run.out)["cameras"] == [
        {"name": "imx708", "backend": "picamera2", "option": "--camera 0 --backend picamera2"},
        {"name": "HD Webcam C525", "backend": "opencv", "option": "--source /dev/video8"},
    ]
    run = run_cli(capsys, "info", "-m", TINY, "--delegate", "cpu")
    lines = run.out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("cameras"))
    assert lines[start:] == [
        "cameras     imx708: --camera 0 --backend picamera2",
        "            HD Webcam C525: --source /dev/video8",
    ]


def test_info_without_cameras_says_so(
    model_cache: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(discovery, "list_cameras", list)  # no cameras at all
    run = run_cli(capsys, "info", "-m", TINY, "--delegate", "cpu")
    assert run.code == 0 and run.out.splitlines()[-1] == "cameras     none found"


def test_info_with_nothing_cached_still_reports_the_machine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The no-camera hint sends people to `info`: it must work before the first download, and not download."""
    monkeypatch.setenv("EDGE_APP_MODELS", str(tmp_path / "empty"))
    monkeypatch.setenv("EDGE_APP_MODEL_MIRROR", "http://127.0.0.1:9/")
    monkeypatch.setattr(discovery, "list_cameras", list)
    run = run_cli(capsys, "info")
    assert run.code == 0 and run.err == ""
    lines = {line.split()[0]: line for line in run.out.splitlines()}
    assert lines["runtime"].startswith("runtime     litert ")
    assert "tf2_mobilenet_v2_1.0_224_ptq: not cached" in lines["model"] and "edge-app models fetch" in lines["model"]
    assert lines["edge"].startswith("edge tpu    library") and lines["cameras"] == "cameras     none found"
    report = json.loads(run_cli(capsys, "info", "-m", TINY, "--json").out)
    assert report["model"] == {"name": TINY, "cached": False, "path": str(tmp_path / "empty" / f"{TINY}.tflite")}
    assert report["runtime"] == "litert" and "edgetpu" in report and report["cameras"] == []
    assert not (tmp_path / "empty").exists(), "info never downloads"
