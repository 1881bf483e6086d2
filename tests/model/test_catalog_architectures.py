"""The other architectures in the catalog: ids agree with ../shared/models/SOURCES.md, and a first
fetch (from a mirror on 127.0.0.1) verifies the model and its label file by git blob id."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from edge_app.errors import EdgeAppError
from edge_app.evaluate.compare import default_models
from edge_app.model.catalog import load_catalog
from edge_app.model.classifier import Classifier, ModelOptions
from edge_app.model.labels import fit_labels
from edge_app.train import surgery
from tests.fakes.model_server import Reply, serve
from tests.helpers.shared_data import MODELS

ARCHITECTURES = {
    "efficientnet-edgetpu-S_quant",
    "efficientnet-edgetpu-M_quant",
    "efficientnet-edgetpu-L_quant",
    "inception_v1_224_quant",
    "inception_v2_224_quant",
    "inception_v3_299_quant",
    "inception_v4_299_quant",
    "tfhub_tf2_resnet_50_imagenet_ptq",
    "tf2_mobilenet_v3_edgetpu_1.0_224_ptq",
    "mobilenet_v1_1.0_224_quant",
}


def _blob(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@pytest.mark.shared
def test_every_architecture_is_in_the_catalog_with_the_published_blob_ids() -> None:
    published = dict(re.findall(r"\| (\S+\.tflite) \| ([0-9a-f]{40}) \|", (MODELS / "SOURCES.md").read_text()))
    catalog = load_catalog()
    assert ARCHITECTURES <= set(catalog)
    for name in ARCHITECTURES:
        entry = catalog[name]
        assert entry.download.git_blob == published[entry.file], name
        assert entry.edgetpu is not None and entry.edgetpu.git_blob == published[entry.edgetpu.file], name
        assert entry.label_file is not None and entry.label_file.git_blob == _blob(
            (MODELS / "imagenet_labels.txt").read_bytes()
        )
        assert entry.input_size in (224, 240, 299, 300) and entry.extra
    assert not ARCHITECTURES & set(default_models(catalog)), "tens of MB each: compared by name, not by default"


def _catalog(tmp_path: Path, model: bytes, labels: bytes, *, mean: str = "") -> Path:
    path = tmp_path / "catalog.toml"
    path.write_text(
        f"""["inception_v1_224_quant"]
file = "inception_v1_224_quant.tflite"
url = "http://127.0.0.1:9/unused"
git_blob = "{_blob(model)}"
input = 128
labels = "imagenet"
extra = true
{mean}

["inception_v1_224_quant".label_file]
file = "imagenet_labels.txt"
url = "http://127.0.0.1:9/unused"
git_blob = "{_blob(labels)}"
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def unlabelled() -> bytes:
    """A real model with its label zip taken off, standing in for an architecture that carries none."""
    return surgery.dump(surgery.load((MODELS / "mobilenet_v1_0.25_128_quant.tflite").read_bytes()))


@pytest.mark.shared
def test_a_first_fetch_verifies_the_model_and_its_label_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unlabelled: bytes
) -> None:
    labels = (MODELS / "imagenet_labels.txt").read_bytes()
    monkeypatch.setenv("EDGE_APP_CATALOG", str(_catalog(tmp_path, unlabelled, labels, mean="mean = 0.0\nstd = 255.0")))
    monkeypatch.setenv("EDGE_APP_MODELS", str(tmp_path / "cache"))
    files = {"inception_v1_224_quant.tflite": Reply(unlabelled), "imagenet_labels.txt": Reply(labels)}
    with serve(files) as url:
        monkeypatch.setenv("EDGE_APP_MODEL_MIRROR", url)
        classifier = Classifier.open(ModelOptions(model="inception_v1_224_quant", threads=1))
    assert classifier.labels[1].startswith("tench") and len(classifier.labels) == 1001
    assert classifier.info.labels_source.endswith("imagenet_labels.txt")
    assert (classifier.spec.mean, classifier.spec.std) == (0.0, 255.0), "the catalog's normalization is used"
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == [
        "imagenet_labels.txt",
        "inception_v1_224_quant.tflite",
    ]


@pytest.mark.shared
def test_a_tampered_download_is_refused_and_nothing_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unlabelled: bytes
) -> None:
    labels = (MODELS / "imagenet_labels.txt").read_bytes()
    monkeypatch.setenv("EDGE_APP_CATALOG", str(_catalog(tmp_path, unlabelled, labels)))
    monkeypatch.setenv("EDGE_APP_MODELS", str(tmp_path / "cache"))
    tampered = unlabelled[:-1] + bytes([unlabelled[-1] ^ 1])
    with serve({"inception_v1_224_quant.tflite": Reply(tampered)}) as url:
        monkeypatch.setenv("EDGE_APP_MODEL_MIRROR", url)
        with pytest.raises(EdgeAppError, match="checksum mismatch.*git blob"):
            Classifier.open(ModelOptions(model="inception_v1_224_quant", threads=1))
    assert not list((tmp_path / "cache").glob("*.tflite"))


def test_a_1000_output_model_takes_the_1001_line_imagenet_file() -> None:
    labels = {0: "background", 1: "tench", 2: "goldfish"}
    assert fit_labels(labels, 2) == ["tench", "goldfish"]
    assert fit_labels({0: "tench", 1: "goldfish"}, 3) == ["background", "tench", "goldfish"]
