"""Model output -> scores -> ranked labels; outputs that are not class scores are named."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edge_app.model.classifier import Classifier
from edge_app.model.options import ModelOptions
from edge_app.model.postprocess import background, dequantize, output_doubt, shown, top_k
from tests.helpers.shared_data import MODELS


def test_uint8_below_the_zero_point_goes_negative_instead_of_wrapping() -> None:
    raw = np.array([[0, 10, 128, 255]], np.uint8)
    scores = dequantize(raw, 0.5, 128)
    assert scores.dtype == np.float32
    assert scores.tolist() == [-64.0, -59.0, 0.0, 63.5]


def test_int8_and_wide_integers_are_dequantized() -> None:
    assert dequantize(np.array([-128, 0, 127], np.int8), 1 / 256, -128).tolist() == [0.0, 0.5, 0.99609375]
    assert dequantize(np.array([-30000, 30000], np.int16), 0.001, 0).tolist() == pytest.approx([-30.0, 30.0])


def test_catalog_output_parameters_give_probabilities() -> None:
    """MobileNet's uint8 output: scale 1/256, zero point 0; 255 means 0.996."""
    scores = dequantize(np.array([[0, 128, 255]], np.uint8), 1 / 256, 0)
    assert scores.tolist() == [0.0, 0.5, 0.99609375]


def test_float_outputs_and_unquantized_integers_pass_through() -> None:
    floats = np.array([[0.25, 0.75]], np.float32)
    assert dequantize(floats, 0.0, 0).tolist() == [0.25, 0.75]
    assert dequantize(np.array([3, 4], np.uint8), 0.0, 0).tolist() == [3.0, 4.0]


LABELS = ["background", "cat", "dog", "bird", "fish"]


def test_top_k_is_best_first() -> None:
    scores = np.array([0.0, 0.1, 0.6, 0.25, 0.05], np.float32)
    top = top_k(scores, LABELS, 3)
    assert [(t.index, t.label) for t in top] == [(2, "dog"), (3, "bird"), (1, "cat")]
    assert top[0].score == pytest.approx(0.6)


def test_threshold_drops_low_scores_and_can_leave_nothing() -> None:
    scores = np.array([0.0, 0.1, 0.6, 0.25, 0.05], np.float32)
    assert [t.label for t in top_k(scores, LABELS, 5, 0.2)] == ["dog", "bird"]
    assert [t.label for t in top_k(scores, LABELS, 5, 0.25)] == ["dog", "bird"], "the threshold is inclusive"
    assert top_k(scores, LABELS, 5, 0.9) == ()


def test_ties_keep_the_lower_index_first() -> None:
    scores = np.array([0.1, 0.3, 0.1, 0.3, 0.2], np.float32)
    assert [t.index for t in top_k(scores, LABELS, 5)] == [1, 3, 4, 0, 2]


def test_k_larger_than_outputs_returns_every_output() -> None:
    assert len(top_k(np.arange(5, dtype=np.float32), LABELS, 50)) == 5


@pytest.mark.parametrize(
    ("shape", "dtype", "scale", "zero", "labelled", "doubt"),
    [
        ((1, 1001), np.uint8, 1 / 256, 0, True, None),  # the catalog's MobileNets: softmax probabilities
        ((1, 965), np.int8, 1 / 256, -128, False, None),  # int8 softmax, labels given separately
        ((1, 1001), np.float32, 0.0, 0, False, None),  # float: cannot tell from the header
        (
            (1, 1, 1, 1024),
            np.uint8,
            6 / 255,
            0,
            False,
            "output [1, 1, 1, 1024] (values 0 to 6, not probabilities, no labels) looks like an embedding extractor",
        ),
        (
            (1, 1, 1, 1280),
            np.float32,
            0.0,
            0,
            False,
            "output [1, 1, 1, 1280] (float values, no labels) looks like an embedding extractor",
        ),
        (
            (1, 1001),
            np.int8,
            0.1,
            10,
            True,
            "output [1, 1001] (values -13.8 to 11.7, not probabilities) does not look like a classifier's",
        ),
    ],
)
def test_outputs_that_are_not_class_probabilities_are_doubted(
    shape: tuple[int, ...], dtype: type, scale: float, zero: int, labelled: bool, doubt: str | None
) -> None:
    found = output_doubt(shape, np.dtype(dtype), scale, zero, labelled)
    assert (
        found == doubt
        if doubt is None
        else found is not None and found.startswith(doubt) and found.endswith("its scores are raw numbers")
    )


def test_an_embedding_extractor_is_named_once_at_load_and_classifiers_are_not(model_cache: Path) -> None:
    heard: list[str] = []
    for name in (
        "mobilenet_v1_1.0_224_quant_embedding_extractor",
        "mobilenet_v2_1.0_224_quant",
        "tf2_mobilenet_v2_1.0_224_ptq",
        "mobilenet_v2_1.0_224_inat_bird_quant",
    ):
        Classifier.open(
            ModelOptions(model=str(MODELS / f"{name}.tflite"), delegate="cpu", threads=1), warn=heard.append
        )
    assert len(heard) == 1 and heard[0].startswith(
        "mobilenet_v1_1.0_224_quant_embedding_extractor.tflite: output [1, 1, 1, 1024]"
    )


def test_background_is_index_0_of_imagenet_models_or_any_label_so_named() -> None:
    assert background([str(i) for i in range(1001)]) == [0], "1001 outputs: index 0 is the background class"
    assert background(["cat", "Background", "dog"]) == [1]
    assert background(["cat", "dog"]) == []
    scores = np.array([0.5, 0.3, 0.0, 0.2], np.float32)
    labels = ["background", "cat", "dog", "owl"]
    assert [label.label for label in shown(scores, labels, k=4)] == ["cat", "owl"]
    assert [label.label for label in shown(scores, labels, k=4, threshold=0.25)] == ["cat"]
