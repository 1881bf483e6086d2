"""Learning your own classes without TensorFlow: a new softmax head on a frozen MobileNet.

`edge-app train` (trainer.py) runs the whole workflow on a folder of photos. The pieces are plain
functions that other code (teaching from the live view) calls in-process, with embeddings it
already has:

    from edge_app.train import HeadOptions, build_classifier_model, dual_output_model, fit_head, write_atomic

    head = fit_head(x, y, classes=len(labels), options=HeadOptions(l2=1e-3))  # x: (n, 1280) float embeddings
    model = build_classifier_model(base_path, head, labels)  # bytes: one .tflite, labels embedded
    write_atomic(path, dual_output_model(model))             # outputs [scores, pooled embedding]

- `fit_head(x, y, classes, options, init) -> Head`: multinomial logistic regression (L-BFGS,
  standardisation folded in); x are *dequantized* pooled embeddings, as the model's pooled tensor
  holds them (Layer.dequantize / Quant.dequantize), y class indices.
- `search_l2(x, y, classes, seed) -> Search`: the regularisation strength by stratified k-fold CV
  (x: (photos, views, dim), view 0 the original photo).
- `extractor_model(base, layers=(POOLED,)) -> bytes`: the base cut at its pooled embedding
  (and/or FEATURES, the input of the last 1x1 block), for a plain interpreter.
- `build_classifier_model(base, head, labels, block=None) -> bytes`: the base with the new head,
  quantized like the base (uint8 per-tensor or int8 per-channel), labels as an appended zip.
- `dual_output_model(classifier) -> bytes`: the same classifier with the pooled embedding as a
  second output (output 0 unchanged), so a live pipeline gets each frame's embedding for free.
- `write_atomic(path, data)`: temporary file, fsync, rename: readers never see half a model.
- `EmbeddingCache(folder, shapes)`: embeddings on disk by photo digest and view (get/put);
  `stratified_split(y, fraction, seed)`: a seeded, stratified hold-out; `zip_entry(name)`: a
  zip entry with a fixed date, for files appended to a model's zip.

`base` and `classifier` are a path or the model's bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from edge_app.train import surgery as _surgery
from edge_app.train.cache import EmbeddingCache
from edge_app.train.head import Head, HeadOptions, fit_head
from edge_app.train.output import write_atomic
from edge_app.train.search import Search, search_l2
from edge_app.train.split import Split, stratified_split
from edge_app.train.surgery import FEATURES, POOLED, Conv, zip_entry

__all__ = [
    "FEATURES",
    "POOLED",
    "Conv",
    "EmbeddingCache",
    "Head",
    "HeadOptions",
    "Search",
    "Split",
    "build_classifier_model",
    "dual_output_model",
    "extractor_model",
    "fit_head",
    "search_l2",
    "stratified_split",
    "write_atomic",
    "zip_entry",
]


def _bytes(model: Path | bytes) -> bytes:
    return model if isinstance(model, bytes) else Path(model).read_bytes()


def extractor_model(base: Path | bytes, layers: Sequence[str] = (POOLED,)) -> bytes:
    return _surgery.extractor_model(_bytes(base), layers)


def build_classifier_model(base: Path | bytes, head: Head, labels: Sequence[str], block: Conv | None = None) -> bytes:
    return _surgery.classifier_model(_bytes(base), head, labels, block)


def dual_output_model(classifier: Path | bytes) -> bytes:
    return _surgery.dual_output_model(_bytes(classifier))
