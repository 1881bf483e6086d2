"""The in-process API the live view's teaching will use: embeddings it has -> a model file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter

from edge_app.images import read_image
from edge_app.model.classifier import Classifier, ModelOptions
from edge_app.train import (
    HeadOptions,
    build_classifier_model,
    dual_output_model,
    extractor_model,
    fit_head,
    write_atomic,
)
from tests.helpers.shared_data import IMAGES, MODELS

pytestmark = pytest.mark.shared  # a real base model from ../shared/models

BASE = MODELS / "tf2_mobilenet_v2_1.0_224_ptq.tflite"
PHOTOS = {
    "bird": ["parrot.jpg", "bird.bmp", "owl.jpg"],
    "not bird": ["cat.bmp", "hot_dog.jpg", "sunflower.bmp", "grace_hopper.bmp"],
}


def test_teach_from_embeddings_then_load_as_any_model(tmp_path: Path) -> None:
    extractor = tmp_path / "extractor.tflite"
    write_atomic(extractor, extractor_model(BASE))
    backbone = Classifier.open(ModelOptions(model=str(extractor), delegate="cpu"))
    labels = sorted(PHOTOS)
    x, y = [], []
    for label, names in PHOTOS.items():
        for name in names:
            scores, _ = backbone.infer(backbone.prepare(read_image(IMAGES / name)))  # dequantized embedding
            x.append(scores)
            y.append(labels.index(label))
    head = fit_head(np.array(x), np.array(y), len(labels), HeadOptions(l2=1e-2))

    model = tmp_path / "taught.tflite"
    write_atomic(model, dual_output_model(build_classifier_model(BASE, head, labels)))
    classifier = Classifier.open(ModelOptions(model=str(model), delegate="cpu", top_k=1))
    assert classifier.labels == labels and classifier.info.outputs == len(labels)  # output 0: the scores
    for label, names in PHOTOS.items():
        for name in names:
            top, _, _ = classifier.classify(read_image(IMAGES / name))
            assert top[0].label == label, name

    bare = Interpreter(model_path=str(model))
    bare.allocate_tensors()
    embedding = bare.get_output_details()[1]
    assert list(embedding["shape"]) == [1, 1, 1, 1280]
