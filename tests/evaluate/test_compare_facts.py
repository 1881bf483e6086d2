"""Parameter count and quantization read from real interpreters."""

from __future__ import annotations

from pathlib import Path

import pytest
from ai_edge_litert.interpreter import Interpreter

from edge_app.evaluate.modelfacts import ModelFacts, describe_quantization, facts
from tests.helpers.shared_data import MODELS


def _facts(name: str) -> ModelFacts:
    return facts(Interpreter(model_path=str(MODELS / f"{name}.tflite")))


@pytest.mark.shared
@pytest.mark.parametrize(
    "name, low, high, quantization",
    [
        ("mobilenet_v2_1.0_224_quant", 3.40e6, 3.55e6, "uint8"),  # MobileNetV2 1.0: 3.47 M weights + biases
        ("tf2_mobilenet_v2_1.0_224_ptq", 3.40e6, 3.55e6, "int8, uint8 I/O"),
        ("mobilenet_v1_0.25_128_quant", 0.45e6, 0.49e6, "uint8"),  # MobileNetV1 0.25: 0.47 M
    ],
)
def test_real_models(name: str, low: float, high: float, quantization: str) -> None:
    found = _facts(name)
    assert found.params is not None and low < found.params < high
    assert found.quantization == quantization


@pytest.mark.shared
def test_the_embedding_extractor_has_fewer_parameters_than_its_classifier() -> None:
    extractor = _facts("mobilenet_v1_1.0_224_quant_embedding_extractor")
    assert extractor.params is not None and 3.0e6 < extractor.params < 3.3e6, (
        "MobileNetV1 1.0 without its 1 M-weight classifier"
    )


def test_describe_quantization() -> None:
    assert describe_quantization(["uint8", "int32", "uint8"], "uint8", "uint8") == "uint8"
    assert describe_quantization(["int8", "int32"], "uint8", "uint8") == "int8, uint8 I/O"
    assert describe_quantization(["float16"], "float32", "uint8") == "float16, float32 in, uint8 out"
    assert describe_quantization(["float32"], "float32", "float32") == "float32"
    assert describe_quantization([], "float32", "float32") == "float32"
    assert describe_quantization(["int32"], "int8", "int8") == "int32, int8 I/O", (
        "all-int32 constants are still reported"
    )


class NoOpList:
    """An interpreter without _get_ops_details (an old runtime): quantization still from I/O."""

    def get_input_details(self) -> list[dict]:
        return [{"dtype": "uint8", "index": 0}]

    def get_output_details(self) -> list[dict]:
        return [{"dtype": "uint8", "index": 1}]


def test_unknown_parameter_count_is_none(tmp_path: Path) -> None:
    found = facts(NoOpList())
    assert found.params is None and found.quantization == "uint8"
