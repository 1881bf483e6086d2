"""Label files, labels embedded in the model, and fitting them to the model's outputs."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest

from edge_app.errors import EdgeAppError
from edge_app.images import read_image
from edge_app.model.classifier import Classifier, ModelOptions
from edge_app.model.labels import embedded_labels, fit_labels, parse_labels, read_label_file
from tests.helpers.shared_data import IMAGES, MODELS


@functools.cache
def imagenet_labels() -> list[str]:
    """../shared/models/imagenet_labels.txt, read when a test (marked `shared`) first asks."""
    return (MODELS / "imagenet_labels.txt").read_text().splitlines()


def test_one_label_per_line() -> None:
    assert parse_labels("background\ntench, Tinca tinca\r\ngoldfish\n\n\n") == {
        0: "background",
        1: "tench, Tinca tinca",
        2: "goldfish",
    }


@pytest.mark.parametrize("sep", [" ", "  ", "\t", ": ", ","])
def test_id_label_lines(sep: str) -> None:
    text = f"0{sep}background\n1{sep}tench, Tinca tinca\n5{sep}great white shark\n"
    assert parse_labels(text) == {0: "background", 1: "tench, Tinca tinca", 5: "great white shark"}


def test_labels_that_merely_start_with_digits_stay_one_per_line() -> None:
    text = "3 toed sloth\nnot numbered\n"
    assert parse_labels(text) == {0: "3 toed sloth", 1: "not numbered"}


def test_repeated_ids_mean_one_per_line() -> None:
    assert parse_labels("1 a\n1 b\n") == {0: "1 a", 1: "1 b"}


@pytest.mark.shared
def test_1000_line_file_on_1001_output_model_gets_the_background_shift() -> None:
    labels = fit_labels(dict(enumerate(imagenet_labels()[1:])), 1001, "labels file")
    assert len(labels) == 1001
    assert labels[0] == "background"
    assert labels[1] == "tench, Tinca tinca"
    assert labels[286] == "Egyptian cat"


@pytest.mark.shared
def test_id_file_with_the_background_line_fits_as_is() -> None:
    labels = fit_labels(dict(enumerate(imagenet_labels())), 1001)
    assert labels == imagenet_labels()


def test_count_mismatch_is_a_clear_error() -> None:
    with pytest.raises(EdgeAppError) as err:
        fit_labels({i: f"c{i}" for i in range(965)}, 1001, "labels file birds.txt")
    message = str(err.value)
    assert "labels file birds.txt has 965 labels but the model has 1001 outputs" in message
    assert "; " in message and "\n" not in message


def test_no_labels_means_class_indices() -> None:
    assert fit_labels(None, 4) == ["0", "1", "2", "3"]
    assert fit_labels({}, 2) == ["0", "1"]


def test_sparse_id_file_names_missing_ids_by_index() -> None:
    assert fit_labels({0: "zero", 3: "three"}, 4) == ["zero", "1", "2", "three"]


def test_unreadable_label_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EdgeAppError, match="cannot read labels file .*missing.txt"):
        read_label_file(tmp_path / "missing.txt")


@pytest.mark.shared
@pytest.mark.parametrize(
    ("model", "count", "first", "source"),
    [
        ("mobilenet_v2_1.0_224_quant", 1001, "background", "imagenet_labels.txt"),
        ("tf2_mobilenet_v2_1.0_224_ptq", 1001, "background", "imagenet_labels.txt"),
        ("mobilenet_v1_0.25_128_quant", 1001, "background", "imagenet_labels.txt"),
        ("mobilenet_v2_1.0_224_inat_bird_quant", 965, "Haemorhous cassinii (Cassin's Finch)", "inat_bird_labels.txt"),
    ],
)
def test_labels_embedded_in_the_catalog_models(model: str, count: int, first: str, source: str) -> None:
    labels = embedded_labels(MODELS / f"{model}.tflite")
    assert labels is not None and len(labels) == count and labels[0] == first
    assert [labels[i] for i in range(count)] == (MODELS / source).read_text().splitlines()


@pytest.mark.shared
def test_models_without_a_zip_part_have_no_embedded_labels() -> None:
    assert embedded_labels(MODELS / "mobilenet_v1_1.0_224_quant_embedding_extractor.tflite") is None
    assert embedded_labels(MODELS / "does_not_exist.tflite") is None


def _classify(image: str, **options: Any) -> tuple[Classifier, list[tuple[int, str]]]:  # ModelOptions fields
    classifier = Classifier.open(ModelOptions(delegate="cpu", threads=1, **options))
    top, _, _ = classifier.classify(read_image(IMAGES / image))
    return classifier, [(t.index, t.label) for t in top]


def test_inat_bird_model_names_species_from_its_965_embedded_labels(model_cache: Path) -> None:
    classifier, top = _classify("bird.bmp", model="mobilenet_v2_1.0_224_inat_bird_quant")
    assert len(classifier.labels) == 965
    assert classifier.info.labels_source == "embedded in mobilenet_v2_1.0_224_inat_bird_quant.tflite"
    assert top[0] == (659, "Poecile atricapillus (Black-capped Chickadee)")


def test_labels_option_wins_over_embedded_labels(model_cache: Path, tmp_path: Path) -> None:
    shouting = tmp_path / "upper.txt"
    shouting.write_text("\n".join(label.upper() for label in imagenet_labels()[1:]) + "\n")  # 1000 lines
    classifier, top = _classify("cat.bmp", model="mobilenet_v2_1.0_224_quant", labels=shouting)
    assert top[0] == (286, "EGYPTIAN CAT")
    assert classifier.info.labels_source == str(shouting)


def test_id_label_file_through_the_classifier(model_cache: Path, tmp_path: Path) -> None:
    numbered = tmp_path / "numbered.txt"
    numbered.write_text("".join(f"{i}  {label}\n" for i, label in enumerate(imagenet_labels())))
    _, top = _classify("hot_dog.jpg", model="mobilenet_v2_1.0_224_quant", labels=numbered)
    assert top[0] == (935, "hotdog, hot dog, red hot")


def test_model_without_labels_reports_indices(model_cache: Path) -> None:
    classifier, top = _classify("cat.bmp", model=str(MODELS / "mobilenet_v1_1.0_224_quant_embedding_extractor.tflite"))
    assert classifier.labels[:3] == ["0", "1", "2"] and len(classifier.labels) == 1024
    assert classifier.info.labels_source == "none (class indices)"
    assert all(label == str(index) for index, label in top)
