"""Backbone embeddings of photos, as eval runs a model: decoding on every core while the lanes run.

The backbone is the base model cut at its pooled embedding (and, for fine-tuning, also at the
input of its last 1x1 block): see surgery.extractor_model. It is written once per base model
beside the embedding cache and opened as lanes (single-thread interpreters side by side), and
each photo goes through `Classifier.prepare`, the live path's preprocessing, so an embedding is
exactly what the written classifier computes on the way to its scores.

Outputs are kept raw (the integers the model produced) with their quantization: exact, compact
to cache, and replayable through the written model's tail (see tail.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edge_app.atomic import atomic_write_bytes
from edge_app.errors import EdgeAppError, Interrupted, first_line
from edge_app.evaluate.runner import outcomes
from edge_app.images import decode_image, read_bytes
from edge_app.model.classifier import Classifier, ModelOptions
from edge_app.model.lanes import LanePool, cores, open_lanes
from edge_app.train import surgery
from edge_app.train.augment import View, apply
from edge_app.train.cache import EmbeddingCache
from edge_app.train.quant import Quant


@dataclass(frozen=True)
class Layer:
    name: str  # surgery.POOLED or surgery.FEATURES
    index: int  # the interpreter's output tensor index
    shape: tuple[int, ...]  # without the batch dimension
    dtype: np.dtype
    quant: Quant

    def dequantize(self, raw: np.ndarray) -> np.ndarray:
        return self.quant.dequantize(raw)


@dataclass(frozen=True)
class Backbone:
    lanes: list[Classifier]
    layers: list[Layer]

    @property
    def prep_id(self) -> str:
        """What the preprocessing depends on, for the cache key."""
        spec = self.lanes[0].spec
        return f"{spec.width}x{spec.height}-{self.lanes[0].options.resize}-rgb-bilinear"

    def shapes(self) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
        return {layer.name: (layer.shape, layer.dtype) for layer in self.layers}


def extractor_file(base: bytes, base_digest: str, layers: Sequence[str], folder: Path) -> Path:
    """The extractor model, written once per base model and layer set (atomically, so parallel runs are safe)."""
    path = folder / f"{base_digest[:16]}-{'+'.join(layers)}.tflite"
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, surgery.extractor_model(base, layers), durable=False)
    return path


def open_backbone(extractor: Path, layers: Sequence[str]) -> Backbone:
    # An extractor is no classifier by design: the "scores are raw numbers" warning is not for it.
    classifiers = open_lanes(ModelOptions(model=str(extractor), delegate="cpu"), warn=lambda _: None)
    details = classifiers[0].interpreter.get_output_details()
    found = []
    for name, detail in zip(layers, details):
        scale, zero_point = detail["quantization"]
        shape = tuple(int(d) for d in detail["shape"][1:])
        if name == surgery.POOLED:
            shape = (int(np.prod(shape)),)  # [1,1,D] -> (D,)
        found.append(
            Layer(name, detail["index"], shape, np.dtype(detail["dtype"]), Quant.per_tensor(scale, zero_point))
        )
    return Backbone(classifiers, found)


@dataclass(frozen=True)
class Embeddings:
    values: dict[str, np.ndarray]  # layer -> (photos, views, *shape), raw integers; zeros where a photo failed
    photos: int
    failed: dict[int, str]  # photo row -> why it could not be used (names the file)
    computed: int  # views that went through the backbone (the rest came from the cache)

    @property
    def ok(self) -> np.ndarray:
        ok = np.ones(self.photos, bool)
        ok[list(self.failed)] = False
        return ok


@dataclass(frozen=True)
class _Done:
    values: dict[str, np.ndarray]  # layer -> (views, *shape)
    computed: int


_Outcome = _Done | str


class _Embedder:
    """One photo: read, hash, take cached views, decode and run the backbone for the others."""

    def __init__(self, backbone: Backbone, views: Sequence[View], cache: EmbeddingCache) -> None:
        self.backbone = backbone
        self.views = views
        self.cache = cache
        self.pool = LanePool(backbone.lanes)
        self.prepare = backbone.lanes[0].prepare

    def _invoke(self, tensor: np.ndarray) -> dict[str, np.ndarray]:
        with self.pool.lend() as lane:
            lane.infer(tensor)
            return {
                layer.name: lane.interpreter.get_tensor(layer.index).reshape(layer.shape)
                for layer in self.backbone.layers
            }

    def run(self, path: Path) -> _Outcome:
        try:
            data = read_bytes(path)
        except EdgeAppError as exc:
            return exc.message
        digest = hashlib.sha256(data.data).hexdigest()  # the array's buffer, not a copy of it
        per_view = [self.cache.get(digest, view.name) for view in self.views]
        computed = 0
        if any(found is None for found in per_view):
            try:
                image = decode_image(data, path)
                tensors = {
                    i: self.prepare(apply(view, image, digest), "bgr")
                    for i, view in enumerate(self.views)
                    if per_view[i] is None
                }
            except EdgeAppError as exc:
                return exc.message
            except cv2.error as exc:
                return f"{path} could not be prepared ({first_line(exc)})"
            del image
            for i, tensor in tensors.items():
                found = self._invoke(tensor)
                self.cache.put(digest, self.views[i].name, found)
                per_view[i] = found
                computed += 1
        values = {
            layer.name: np.stack([found[layer.name] for found in per_view if found is not None])
            for layer in self.backbone.layers
        }
        return _Done(values, computed)


def embed(
    backbone: Backbone,
    paths: Sequence[Path],
    views: Sequence[View],
    cache: EmbeddingCache,
    workers: int | None = None,
    on_photo: Callable[[], None] | None = None,
) -> Embeddings:
    """Every view of every photo through the backbone (or from the cache), in order."""
    values = {layer.name: np.zeros((len(paths), len(views), *layer.shape), layer.dtype) for layer in backbone.layers}
    failed: dict[int, str] = {}
    computed = 0
    embedder = _Embedder(backbone, views, cache)
    done = 0
    try:
        for row, outcome in outcomes(embedder.run, paths, workers or max(cores(), len(backbone.lanes))):
            if isinstance(outcome, str):
                failed[row] = outcome
            else:
                computed += outcome.computed
                for name, value in outcome.values.items():
                    values[name][row] = value
            done += 1
            if on_photo:
                on_photo()
    except KeyboardInterrupt as exc:  # the photos embedded so far stay cached: a rerun starts from there
        raise Interrupted(done, len(paths), "photos") from exc
    return Embeddings(values, len(paths), failed, computed)
