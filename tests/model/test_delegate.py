"""The Edge TPU delegate, through a fake loader that raises what LiteRT really raises."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Any

import pytest

from edge_app.errors import EdgeAppError
from edge_app.model import classifier as classifier_module
from edge_app.model import delegate as delegate_module
from edge_app.model.classifier import Classifier, ModelOptions
from edge_app.model.delegate import check_device, edgetpu_library, find_edgetpu_devices, load_edgetpu
from tests.fakes.cli_run import CliRun, assert_one_line_error, run_cli
from tests.fakes.model_server import Reply, serve
from tests.fakes.tflite_fakes import Delegate, RecordingInterpreter, fake_litert, make_load_delegate
from tests.helpers.shared_data import IMAGES, MODELS

CAT = str(IMAGES / "cat.bmp")
V2 = "mobilenet_v2_1.0_224_quant"


@pytest.mark.parametrize(
    ("system", "library"),
    [("Linux", "libedgetpu.so.1"), ("Darwin", "libedgetpu.1.dylib"), ("Windows", "edgetpu.dll")],
)
def test_library_name_per_os(monkeypatch: pytest.MonkeyPatch, system: str, library: str) -> None:
    assert edgetpu_library(system) == library
    monkeypatch.setattr(delegate_module.platform, "system", lambda: system)
    calls: list[tuple[str, dict[str, Any]]] = []
    load_edgetpu(make_load_delegate("loads", calls))
    assert calls == [(library, {})]


@pytest.mark.parametrize("device", ["usb", "usb:0", "usb:12", "pci", "pci:1"])
def test_device_values_that_parse(device: str) -> None:
    assert check_device(device) == device


@pytest.mark.parametrize("device", ["usb0", "USB", "tpu", "usb:", "usb:-1", "pci:a", "usb:1:2", " usb"])
def test_device_values_that_do_not(device: str) -> None:
    with pytest.raises(EdgeAppError, match="bad --device .*; use usb, usb:N, pci or pci:N"):
        check_device(device)


def test_no_device_option_means_any_device() -> None:
    assert check_device(None) is None and check_device("") is None


def test_device_is_passed_to_the_delegate() -> None:
    calls: list[tuple[str, dict[str, Any]]] = []
    delegate = load_edgetpu(make_load_delegate("loads", calls), "usb:1")
    assert isinstance(delegate, Delegate) and delegate.options == {"device": "usb:1"}
    assert calls == [("libedgetpu.so.1", {"device": "usb:1"})]


@pytest.fixture
def unraisable(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Exceptions CPython would print as "Exception ignored in ..." (e.g. from __del__)."""
    seen: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", seen.append)
    return seen


def test_the_fake_reproduces_the_noisy_del_of_a_failed_delegate(unraisable: list[Any]) -> None:
    with pytest.raises(OSError):
        make_load_delegate("no_library")("libedgetpu.so.1")
    assert any("Delegate.__del__" in repr(u.object) for u in unraisable)


def test_missing_library_names_libedgetpu_and_how_to_install(
    unraisable: list[Any], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(EdgeAppError) as err:
        load_edgetpu(make_load_delegate("no_library"))
    message = str(err.value)
    assert "libedgetpu.so.1 could not be loaded" in message
    assert "apt install libedgetpu1-std" in message
    assert unraisable == [] and capsys.readouterr().err == "", "no 'Exception ignored' noise"


def test_library_without_device_says_check_plug_udev_group() -> None:
    with pytest.raises(EdgeAppError) as err:
        load_edgetpu(make_load_delegate("no_device"), "pci:0")
    message = str(err.value)
    assert "no usable Edge TPU at pci:0" in message and "Failed to load delegate from libedgetpu.so.1" in message
    for advice in ("plugged in", "udev rules", "group"):
        assert advice in message


def _classify(capsys: pytest.CaptureFixture[str], *args: str) -> CliRun:
    return run_cli(capsys, "classify", "--threads", "1", "-k", "1", *args, CAT)


@pytest.mark.parametrize("outcome", ["no_library", "no_device"])
def test_delegate_auto_warns_once_and_runs_on_the_cpu(
    model_cache: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], outcome: str
) -> None:
    fake_litert(monkeypatch, outcome)
    run = _classify(capsys, "-m", V2, "--delegate", "auto")
    assert run.code == 0
    assert "Egyptian cat" in run.out
    lines = run.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("edge-app: warning: Edge TPU not used, running on the CPU: ")
    assert ("libedgetpu" if outcome == "no_library" else "plugged in") in lines[0]
    assert RecordingInterpreter.created[-1]["model_path"].endswith(f"{V2}.tflite")
    assert RecordingInterpreter.created[-1]["delegates"] == []


def test_default_delegate_is_quiet_without_a_coral(
    model_cache: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_litert(monkeypatch, "no_library")
    monkeypatch.setattr(classifier_module, "find_edgetpu_devices", lambda: [])
    run = _classify(capsys, "-m", V2)
    assert run.code == 0 and run.err == ""


def test_default_delegate_warns_when_a_coral_is_plugged_in_but_unusable(
    model_cache: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_litert(monkeypatch, "no_library")
    monkeypatch.setattr(classifier_module, "find_edgetpu_devices", lambda: ["usb (2-1, 1a6e:089a)"])
    run = _classify(capsys, "-m", V2)
    assert run.code == 0 and "libedgetpu" in run.err and len(run.err.splitlines()) == 1


def test_delegate_cpu_never_touches_the_edgetpu_library(
    model_cache: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[tuple[str, dict[str, Any]]] = []
    fake_litert(monkeypatch, "loads", calls)
    run = _classify(capsys, "-m", V2, "--delegate", "cpu")
    assert run.code == 0 and calls == []


def _seed_twin(folder: Path, model: str) -> Path:
    """Stand-in for an Edge TPU build (the real one only runs on a Coral): the CPU model itself."""
    twin = folder / f"{model}_edgetpu.tflite"
    twin.symlink_to(MODELS / f"{V2}.tflite")
    return twin


@pytest.mark.parametrize("mode", ["edgetpu", "auto"])
def test_loaded_delegate_switches_to_the_edgetpu_twin(
    model_cache: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], mode: str
) -> None:
    twin = _seed_twin(model_cache, V2)
    fake_litert(monkeypatch, "loads")
    run = _classify(capsys, "-m", V2, "--delegate", mode, "--device", "usb:0", "--json")
    assert run.code == 0 and run.err == ""
    assert "Egyptian cat" in run.out
    [made] = RecordingInterpreter.created
    assert made["model_path"] == str(twin)
    [delegate] = made["delegates"]
    assert isinstance(delegate, Delegate) and delegate.library == "libedgetpu.so.1"
    assert delegate.options == {"device": "usb:0"}


def test_classifier_reports_the_edgetpu_it_runs_on(model_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _seed_twin(model_cache, V2)
    fake_litert(monkeypatch, "loads")
    classifier = Classifier.open(ModelOptions(model=V2, delegate="edgetpu", threads=1))
    assert classifier.info.delegate == "edgetpu"
    assert classifier.info.path.name == f"{V2}_edgetpu.tflite"
    assert classifier.info.labels_source == f"embedded in {V2}_edgetpu.tflite"


def test_twin_is_fetched_on_first_use_and_verified(
    model_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The twin's catalog entry carries a git blob id; the download is checked against it."""
    stand_in = (MODELS / "mobilenet_v1_0.25_128_quant.tflite").read_bytes()
    blob = hashlib.sha1(b"blob %d\0" % len(stand_in) + stand_in).hexdigest()
    entry = "tiny"
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(
        f'[{entry}]\nfile = "mobilenet_v1_0.25_128_quant.tflite"\nurl = "http://127.0.0.1:9/"\ninput = 128\n'
        f'[{entry}.edgetpu]\nfile = "tiny_edgetpu.tflite"\nurl = "http://127.0.0.1:9/"\ngit_blob = "{blob}"\n'
    )
    monkeypatch.setenv("EDGE_APP_CATALOG", str(catalog))
    fake_litert(monkeypatch, "loads")
    with serve({"tiny_edgetpu.tflite": Reply(stand_in)}) as url:
        monkeypatch.setenv("EDGE_APP_MODEL_MIRROR", url)
        run = _classify(capsys, "-m", entry, "--delegate", "edgetpu")
    assert run.code == 0, run.err
    assert (model_cache / "tiny_edgetpu.tflite").read_bytes() == stand_in
    assert RecordingInterpreter.created[-1]["model_path"] == str(model_cache / "tiny_edgetpu.tflite")


def test_twin_that_cannot_be_fetched(
    model_cache: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_litert(monkeypatch, "loads")  # the model_cache mirror (127.0.0.1:9) refuses connections
    run = _classify(capsys, "-m", V2, "--delegate", "edgetpu")
    assert run.code != 0 and "download of mobilenet_v2_1.0_224_quant_edgetpu.tflite failed" in run.err
    assert "Traceback" not in run.err
    assert not (model_cache / f"{V2}_edgetpu.tflite").exists()
    auto = _classify(capsys, "-m", V2, "--delegate", "auto")
    assert auto.code == 0 and "Edge TPU not used, running on the CPU" in auto.err


@pytest.mark.shared
def test_model_path_uses_its_edgetpu_sibling(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    model = tmp_path / "mine.tflite"
    model.symlink_to(MODELS / f"{V2}.tflite")
    sibling = _seed_twin(tmp_path, "mine")
    fake_litert(monkeypatch, "loads")
    assert _classify(capsys, "-m", str(model), "--delegate", "edgetpu").code == 0
    assert RecordingInterpreter.created[-1]["model_path"] == str(sibling)


@pytest.mark.shared
def test_model_path_without_edgetpu_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    model = tmp_path / "mine.tflite"
    model.symlink_to(MODELS / f"{V2}.tflite")
    fake_litert(monkeypatch, "loads")
    assert_one_line_error(
        _classify(capsys, "-m", str(model), "--delegate", "edgetpu"),
        "no Edge TPU build of mine.tflite",
        "edgetpu_compiler",
    )
    auto = _classify(capsys, "-m", str(model), "--delegate", "auto")
    assert auto.code == 0 and auto.err.startswith("edge-app: warning: no Edge TPU build of mine.tflite")


# --- finding a Coral without loading anything ----------------------------------------------


def _usb_device(sysfs: Path, name: str, vendor: str, product: str) -> None:
    device = sysfs / "bus/usb/devices" / name
    device.mkdir(parents=True)
    (device / "idVendor").write_text(vendor + "\n")
    (device / "idProduct").write_text(product + "\n")


def test_find_edgetpu_devices_on_a_fake_sysfs(tmp_path: Path) -> None:
    sysfs, dev = tmp_path / "sys", tmp_path / "dev"
    _usb_device(sysfs, "1-1", "1d6b", "0002")  # a root hub
    _usb_device(sysfs, "2-1", "1a6e", "089a")  # Coral USB before its firmware loads
    _usb_device(sysfs, "2-2", "18d1", "9302")  # ... and after
    (sysfs / "bus/usb/devices/usb1").mkdir()  # no id files
    dev.mkdir()
    (dev / "apex_0").touch()
    (dev / "null").touch()
    assert find_edgetpu_devices(sysfs, dev) == [
        "usb (2-1, 1a6e:089a)",
        "usb (2-2, 18d1:9302)",
        f"pci ({dev / 'apex_0'})",
    ]


def test_find_edgetpu_devices_with_nothing_attached(tmp_path: Path) -> None:
    assert find_edgetpu_devices(tmp_path / "sys", tmp_path / "dev") == []
