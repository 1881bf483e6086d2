"""The model catalog, the model cache, `--model NAME|PATH`, `models list` and first-use fetch."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import pytest

from edge_app.errors import EdgeAppError
from edge_app.model.catalog import cache_dir, default_model, file_digests, load_catalog, resolve
from tests.fakes.cli_run import assert_one_line_error, run_cli
from tests.fakes.model_server import Reply, serve
from tests.helpers.shared_data import IMAGES, MODELS

CATALOG = load_catalog()
RAW_URL = re.compile(r"^https://github\.com/google-coral/test_data/raw/[0-9a-f]{40}/(?P<file>[^/]+\.tflite)$")
REQUIRED = {
    "mobilenet_v2_1.0_224_quant",
    "tf2_mobilenet_v2_1.0_224_ptq",
    "mobilenet_v1_0.75_192_quant",
    "mobilenet_v1_0.5_160_quant",
    "mobilenet_v1_0.25_128_quant",
    "mobilenet_v2_1.0_224_inat_bird_quant",
}


def _shared_sha256() -> dict[str, str]:
    lines = (MODELS / "SHA256SUMS").read_text().splitlines()
    return {name: digest for digest, name in (line.split() for line in lines if line.strip())}


def _sources_blob_ids() -> dict[str, str]:
    """file -> git blob id, from the tables in ../shared/models/SOURCES.md."""
    rows = re.findall(r"^\| (\S+\.tflite) \| ([0-9a-f]{40}) \|$", (MODELS / "SOURCES.md").read_text(), re.M)
    return dict(rows)


def test_catalog_covers_the_required_models() -> None:
    assert REQUIRED <= set(CATALOG)


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_entry_is_complete(name: str) -> None:
    entry = CATALOG[name]
    assert entry.name == name and entry.description
    match = RAW_URL.match(entry.download.url)
    assert match and match["file"] == entry.file == f"{name}.tflite"
    if (
        entry.extra
    ):  # another architecture: verified by blob id, labels from its label file (test_catalog_architectures)
        assert re.fullmatch(r"[0-9a-f]{40}", entry.download.git_blob) and entry.label_file is not None
    else:
        assert re.fullmatch(r"[0-9a-f]{64}", entry.download.sha256)
        assert entry.download.size > 100_000
        assert entry.input_size in (128, 160, 192, 224) and f"_{entry.input_size}_" in name
        assert entry.labels.startswith("embedded:") and entry.labels.endswith(".txt")
    twin = entry.edgetpu
    assert twin is not None and twin.file == f"{name}_edgetpu.tflite"
    twin_match = RAW_URL.match(twin.url)
    assert twin_match and twin_match["file"] == twin.file
    assert re.fullmatch(r"[0-9a-f]{40}", twin.git_blob)


@pytest.mark.shared
@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_shared_model_matches_its_entry(name: str) -> None:
    """The catalog's checksums are the real ones: the byte-for-byte copies in ../shared agree."""
    entry = CATALOG[name]
    path = MODELS / entry.file
    sha256, git_blob = file_digests(path)
    assert sha256 == entry.download.sha256 == _shared_sha256()[entry.file]
    assert path.stat().st_size == entry.download.size
    assert git_blob == _sources_blob_ids()[entry.file]
    assert entry.labels == f"embedded:{'inat_bird' if 'inat' in name else 'imagenet'}_labels.txt"


@pytest.mark.shared
def test_twin_blob_ids_match_the_published_ones() -> None:
    published = _sources_blob_ids()
    for entry in CATALOG.values():
        assert entry.edgetpu is not None
        assert entry.edgetpu.git_blob == published[entry.edgetpu.file]


def test_default_is_the_more_accurate_imagenet_mobilenet_v2() -> None:
    """tf2 PTQ: 88/100 top-1 vs 84/100 (test_model_accuracy); speed: benchmarks/bench_wrapper.py."""
    defaults = [e.name for e in CATALOG.values() if e.default]
    assert defaults == ["tf2_mobilenet_v2_1.0_224_ptq"]
    assert default_model(CATALOG).name == defaults[0]


def test_cache_dir_rules(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.delenv("EDGE_APP_MODELS")  # conftest gives every test an empty cache
    assert cache_dir() == tmp_path / "home/.cache/edge-app/models"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg/edge-app/models"
    monkeypatch.setenv("EDGE_APP_MODELS", "~/models")
    assert cache_dir() == tmp_path / "home/models"


def test_catalog_file_errors(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("EDGE_APP_CATALOG", str(tmp_path / "missing.toml"))
    with pytest.raises(EdgeAppError, match="model catalog not found"):
        load_catalog()
    broken = tmp_path / "broken.toml"
    broken.write_text("[oops\n")
    with pytest.raises(EdgeAppError, match="not valid TOML"):
        load_catalog(broken)


def test_model_by_name_or_by_path(model_cache: Path) -> None:
    assert resolve("mobilenet_v2_1.0_224_quant") == (
        model_cache / "mobilenet_v2_1.0_224_quant.tflite",
        CATALOG["mobilenet_v2_1.0_224_quant"],
    )
    path = MODELS / "mobilenet_v1_0.25_128_quant.tflite"
    assert resolve(str(path)) == (path, None)
    assert resolve(None)[1] == CATALOG["tf2_mobilenet_v2_1.0_224_ptq"]


def test_bad_model_names_and_paths(model_cache: Path) -> None:
    with pytest.raises(
        EdgeAppError, match=r"unknown model 'mobilenet'; use a .tflite path or one of: .*mobilenet_v2_1.0_224_quant"
    ):
        resolve("mobilenet")
    with pytest.raises(EdgeAppError, match="model file not found: nope.tflite"):
        resolve("nope.tflite")
    with pytest.raises(EdgeAppError, match="model file not found"):
        resolve(str(model_cache))  # a folder is not a model


def test_uncached_model_without_fetching(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDGE_APP_MODELS", str(tmp_path))
    with pytest.raises(EdgeAppError, match="run: edge-app models fetch mobilenet_v2_1.0_224_quant"):
        resolve("mobilenet_v2_1.0_224_quant", fetch_missing=False)


def test_models_list(model_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli(capsys, "models", "list")
    assert run.code == 0 and run.err == ""
    lines = run.out.splitlines()
    for name in CATALOG:
        assert any(line.startswith(name) for line in lines), name
    [default_line] = [line for line in lines if line.startswith("tf2_mobilenet_v2_1.0_224_ptq")]
    assert "*" in default_line and "yes" in default_line
    assert f"cache: {model_cache}" in run.out


@pytest.mark.shared
def test_models_list_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "mobilenet_v1_0.25_128_quant.tflite").symlink_to(MODELS / "mobilenet_v1_0.25_128_quant.tflite")
    monkeypatch.setenv("EDGE_APP_MODELS", str(cache))
    run = run_cli(capsys, "models", "list", "--json")
    assert run.code == 0
    rows = {row["name"]: row for row in json.loads(run.out)}
    assert set(rows) == set(CATALOG)
    tiny = rows["mobilenet_v1_0.25_128_quant"]
    assert tiny == {
        "name": "mobilenet_v1_0.25_128_quant",
        "default": False,
        "input": 128,
        "size_mb": 0.53,
        "cached": True,
        "edgetpu_twin": "mobilenet_v1_0.25_128_quant_edgetpu.tflite",
        "description": CATALOG["mobilenet_v1_0.25_128_quant"].description,
    }
    assert [name for name, row in rows.items() if row["cached"]] == ["mobilenet_v1_0.25_128_quant"]
    assert [name for name, row in rows.items() if row["default"]] == ["tf2_mobilenet_v2_1.0_224_ptq"]


@pytest.mark.shared
def test_default_model_is_fetched_on_first_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = tmp_path / "fresh-cache"
    monkeypatch.setenv("EDGE_APP_MODELS", str(cache))
    default = CATALOG["tf2_mobilenet_v2_1.0_224_ptq"]
    with serve({default.file: Reply((MODELS / default.file).read_bytes())}) as url:
        monkeypatch.setenv("EDGE_APP_MODEL_MIRROR", url)
        first = run_cli(capsys, "classify", "--delegate", "cpu", "-k", "1", str(IMAGES / "parrot.jpg"))
    assert first.code == 0, first.err
    assert "macaw" in first.out
    assert first.err.splitlines() == [f"edge-app: {default.file} is not cached yet; downloading it once into {cache}"]
    stored = cache / default.file
    assert file_digests(stored)[0] == default.download.sha256
    assert stat.S_IMODE(stored.stat().st_mode) == 0o644
    assert sorted(p.name for p in cache.iterdir()) == [default.file]
    # the server is gone: a second run must use the cache without trying to download
    again = run_cli(capsys, "classify", "--delegate", "cpu", "-k", "1", str(IMAGES / "parrot.jpg"))
    assert again.code == 0 and again.err == "" and "macaw" in again.out


@pytest.mark.shared
def test_default_model_fetch_failure_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = tmp_path / "fresh-cache"
    monkeypatch.setenv("EDGE_APP_MODELS", str(cache))
    with serve({}) as url:
        monkeypatch.setenv("EDGE_APP_MODEL_MIRROR", url)
        run = run_cli(capsys, "classify", "--delegate", "cpu", str(IMAGES / "parrot.jpg"))
    assert run.code != 0 and "HTTP 404" in run.err.splitlines()[-1]
    assert "Traceback" not in run.err
    assert list(cache.iterdir()) == []


def test_unknown_model_through_the_cli(model_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert_one_line_error(
        run_cli(capsys, "classify", "-m", "resnet50", str(IMAGES / "cat.bmp")),
        "unknown model 'resnet50'",
        "one of: tf2_mobilenet",
    )
