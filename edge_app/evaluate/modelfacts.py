"""What a model is made of, read from a loaded interpreter: parameter count and quantization.

A parameter is an element of a constant tensor: one that some operator reads but no operator
writes and that is not a graph input (weights, biases, and a few tiny shape tensors).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True)
class ModelFacts:
    params: int | None
    quantization: str
    macs: int | None = None


def _constants(interpreter: Any) -> list[dict[str, Any]]:
    ops = interpreter._get_ops_details()  # public API has no op list; LiteRT, tflite_runtime and TF all have this
    produced = {int(t) for op in ops for t in op["outputs"]}
    consumed = {int(t) for op in ops for t in op["inputs"] if t >= 0}
    inputs = {d["index"] for d in interpreter.get_input_details()}
    details = {d["index"]: d for d in interpreter.get_tensor_details()}
    return [details[i] for i in sorted(consumed - produced - inputs) if i in details]


def describe_quantization(weight_dtypes: list[str], input_dtype: str, output_dtype: str) -> str:
    """ "uint8" when weights and I/O agree, else e.g. "int8, uint8 I/O" or "float16, float32 in, uint8 out"."""
    non_bias = [d for d in weight_dtypes if d != "int32"] or weight_dtypes
    weights = Counter(non_bias).most_common(1)[0][0] if non_bias else input_dtype
    if weights == input_dtype == output_dtype:
        return weights
    if input_dtype == output_dtype:
        return f"{weights}, {input_dtype} I/O"
    return f"{weights}, {input_dtype} in, {output_dtype} out"


def facts(interpreter: Any, path: Path | None = None) -> ModelFacts:
    input_dtype = np.dtype(interpreter.get_input_details()[0]["dtype"]).name
    output_dtype = np.dtype(interpreter.get_output_details()[0]["dtype"]).name
    try:
        constants = _constants(interpreter)
    except (AttributeError, KeyError, ValueError, RuntimeError):
        return ModelFacts(None, describe_quantization([], input_dtype, output_dtype))
    params = sum(int(np.prod(t["shape"])) for t in constants)
    dtypes = [np.dtype(t["dtype"]).name for t in constants]
    return ModelFacts(params, describe_quantization(dtypes, input_dtype, output_dtype), macs_of(path))


def macs_of(path: Path | None) -> int | None:
    """Multiply-accumulates per frame, read from the graph (None where the file cannot be read so)."""
    if path is None:
        return None
    from edge_app.errors import EdgeAppError
    from edge_app.model.architecture import read

    try:
        return read(path.read_bytes(), str(path)).macs
    except (EdgeAppError, OSError, IndexError, KeyError, AttributeError, TypeError):
        return None
