"""Top-1 on ../shared/imagenet-100 through edge-app's own image reading, preprocessing and
classifier, against the reference measured with the bare interpreter (shared_data.IMAGENET100_TOP1,
the same on x86_64 and aarch64)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from edge_app.frames import ChannelOrder
from edge_app.images import read_image
from edge_app.model.classifier import Classifier, ModelOptions
from tests.helpers.shared_data import IMAGENET100, IMAGENET100_TOP1

REFERENCE = IMAGENET100_TOP1  # model -> (central 87.5 % crop, squash), out of 100


@pytest.fixture(scope="module")
def imagenet100() -> list[tuple[np.ndarray, int]]:
    """(BGR image as read by edge-app, expected output index) for the 100 photos."""
    with (IMAGENET100 / "labels.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 100
    return [(read_image(IMAGENET100 / row["file"]), int(row["class_index"]) + 1) for row in rows]  # +1: background


def _top1(classifier: Classifier, photos: list[tuple[np.ndarray, int]], order: ChannelOrder = "bgr") -> int:
    return sum(classifier.classify(image, order)[0][0].index == expected for image, expected in photos)


def _open(model: str, resize: str = "crop") -> Classifier:
    return Classifier.open(ModelOptions(model=model, delegate="cpu", resize=resize, top_k=1))


@pytest.mark.parametrize("resize", ["crop", "squash"])
@pytest.mark.parametrize("model", list(REFERENCE))
def test_top1_matches_the_reference(
    model_cache: Path, imagenet100: list[tuple[np.ndarray, int]], model: str, resize: str
) -> None:
    expected = REFERENCE[model][0 if resize == "crop" else 1]
    assert _top1(_open(model, resize), imagenet100) == expected


def test_feeding_bgr_as_rgb_costs_a_lot(model_cache: Path, imagenet100: list[tuple[np.ndarray, int]]) -> None:
    """Say the BGR images are RGB, so the model sees blue and red swapped."""
    classifier = _open("mobilenet_v2_1.0_224_quant")
    right, wrong = _top1(classifier, imagenet100, "bgr"), _top1(classifier, imagenet100, "rgb")
    assert right == REFERENCE["mobilenet_v2_1.0_224_quant"][0]
    assert wrong <= right - 12, f"channel order should matter: {right} right vs {wrong} swapped"


def test_rgb_frames_give_the_same_answers_as_bgr_frames(
    model_cache: Path, imagenet100: list[tuple[np.ndarray, int]]
) -> None:
    classifier = _open("mobilenet_v2_1.0_224_quant")
    for image, _ in imagenet100[:10]:
        bgr_scores = classifier.classify(image, "bgr")[2]
        rgb_scores = classifier.classify(np.ascontiguousarray(image[..., ::-1]), "rgb")[2]
        assert np.array_equal(bgr_scores, rgb_scores)
