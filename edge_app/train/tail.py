"""Scoring cached embeddings with exactly the arithmetic of a written model.

The part of the model after the embedding (or after the features) is cut out as a small model of
its own (surgery.tail_model) and run on the cached raw tensors: the validation scores are then
those the written .tflite gives on the same photos, quantized head and all, without running the
backbone again.
"""

from __future__ import annotations

import numpy as np

from edge_app.model.classifier import make_interpreter
from edge_app.model.postprocess import dequantize
from edge_app.model.runtime import load_runtime
from edge_app.train import surgery


class Tail:
    def __init__(self, model: bytes, start: str, end: str = "scores") -> None:
        self.interpreter = make_interpreter(load_runtime(), surgery.tail_model(model, start, end), 1, None)
        self._input = self.interpreter.get_input_details()[0]
        self._output = self.interpreter.get_output_details()[0]

    def raw(self, inputs: np.ndarray) -> np.ndarray:
        """(n, ...) raw input tensors -> (n, ...) raw outputs, one invoke each."""
        shape = tuple(self._input["shape"])
        out = np.empty((len(inputs), *self._output["shape"][1:]), self._output["dtype"])
        for i, value in enumerate(inputs):
            self.interpreter.set_tensor(
                self._input["index"], value.reshape(shape).astype(self._input["dtype"], copy=False)
            )
            self.interpreter.invoke()
            out[i] = self.interpreter.get_tensor(self._output["index"])[0]
        return out

    def scores(self, inputs: np.ndarray) -> np.ndarray:
        """(n, classes) float32 scores, dequantized as Classifier.infer does."""
        raw = self.raw(inputs)
        scale, zero_point = self._output["quantization"]
        return dequantize(raw, scale, zero_point).reshape(raw.shape)


def ranked(scores: np.ndarray, k: int) -> np.ndarray:
    """(n, k) best outputs per row, ties to the lower index (as postprocess.top_k ranks)."""
    return np.argsort(-scores, axis=1, kind="stable")[:, :k]
