"""Model surgery on both shared MobileNetV2 builds: uint8 per-tensor (TF1 QAT) and int8
per-channel weights with uint8 input and output (TF2 PTQ). Every product is checked by running
it in a plain interpreter against the base model's own tensors."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.shared  # the real base models in ../shared/models
from ai_edge_litert.interpreter import Interpreter

from edge_app.errors import EdgeAppError
from edge_app.images import read_image
from edge_app.model.labels import embedded_labels
from edge_app.model.preprocess import InputSpec, to_tensor
from edge_app.train import surgery
from edge_app.train.head import Head
from edge_app.train.surgery import FEATURES, POOLED
from tests.helpers.shared_data import IMAGES, MODELS

BASES = {
    "mobilenet_v2_1.0_224_quant": ("uint8 per-tensor", 0),
    "tf2_mobilenet_v2_1.0_224_ptq": ("int8 per-channel", 0),
}
LABELS = ["alpha", "beta", "gamma"]
PHOTOS = ("parrot.jpg", "sunflower.bmp", "cat.bmp")


def _base(name: str) -> bytes:
    return (MODELS / f"{name}.tflite").read_bytes()


def _interpreter(model: bytes, preserve: bool = False) -> Interpreter:
    interpreter = Interpreter(model_content=model, experimental_preserve_all_tensors=preserve)
    interpreter.allocate_tensors()
    return interpreter


def _tensor(photo: str) -> np.ndarray:
    return to_tensor(read_image(IMAGES / photo), InputSpec(224, 224, np.dtype(np.uint8)), "bgr")


def _run(interpreter: Interpreter, tensor: np.ndarray) -> list[np.ndarray]:
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], tensor)
    interpreter.invoke()
    return [interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()]


def _head(dim: int = 1280, seed: int = 0) -> Head:
    rng = np.random.default_rng(seed)
    return Head(rng.normal(0, 0.05, (3, dim)).astype(np.float32), np.array([0.1, -0.2, 0.3], np.float32), (-6.0, 8.0))


@pytest.fixture(params=sorted(BASES))
def base(request: pytest.FixtureRequest) -> str:
    return request.param


def test_finds_the_head_and_its_quantization(base: str) -> None:
    model = surgery.load(_base(base))
    site = surgery.find_head(model, base)
    graph = model.subgraphs[0]
    assert site.classes == 1001 and surgery._shape(graph, site.pooled) == [1, 1, 1, 1280]
    assert surgery._shape(graph, site.layer("features")) == [1, 7, 7, 320]
    assert surgery.scheme(model, site).name == BASES[base][0]
    block = surgery.read_conv(model, site.block())
    assert block.weights.shape == (1280, 320) and block.bias.shape == (1280,)


@pytest.mark.filterwarnings(
    "ignore:Warning. Enabling `experimental_preserve_all_tensors`"
)  # the reference, in a test only
def test_extractor_outputs_exactly_the_pooled_tensor(base: str) -> None:
    full = _interpreter(_base(base), preserve=True)
    site = surgery.find_head(surgery.load(_base(base)))
    extractor = _interpreter(surgery.extractor_model(_base(base), (POOLED, FEATURES)))
    assert len(surgery.extractor_model(_base(base))) < len(_base(base))
    for photo in PHOTOS:
        pooled, features = _run(extractor, _tensor(photo))
        _run(full, _tensor(photo))
        np.testing.assert_array_equal(pooled, full.get_tensor(site.pooled))
        np.testing.assert_array_equal(features, full.get_tensor(site.features))


def test_classifier_is_quantized_like_the_base_and_trimmed(base: str) -> None:
    model_bytes = surgery.classifier_model(_base(base), _head(), LABELS)
    model = surgery.load(model_bytes)
    site = surgery.find_head(model)
    graph = model.subgraphs[0]
    assert site.classes == 3
    assert surgery.scheme(model, site).name == BASES[base][0]
    weights = graph.tensors[site.head_weights]
    assert list(weights.shape) == [3, 1, 1, 1280]
    assert len(weights.quantization.scale) == (3 if "per-channel" in BASES[base][0] else 1)
    in_scale = graph.tensors[site.pooled].quantization.scale[0]
    np.testing.assert_allclose(
        graph.tensors[site.head_bias].quantization.scale,
        np.float32(in_scale) * np.asarray(weights.quantization.scale),
        rtol=1e-6,
    )
    # the old 1001 x 1280 weights are gone, and so is the metadata describing ImageNet's outputs
    assert max(len(b.data) for b in model.buffers if b.data is not None) < 1001 * 1280
    assert all(m.name != b"TFLITE_METADATA" for m in model.metadata or [])
    assert len(model_bytes) < len(_base(base)) - 1000 * 1280 // 2
    interpreter = _interpreter(model_bytes)
    out = interpreter.get_output_details()[0]
    assert list(out["shape"]) == [1, 3] and out["dtype"] == np.uint8


def test_classifier_agrees_with_the_float_head_on_the_embedding(base: str) -> None:
    head = _head()
    extractor = _interpreter(surgery.extractor_model(_base(base)))
    quant = extractor.get_output_details()[0]["quantization"]
    classifier = _interpreter(surgery.classifier_model(_base(base), head, LABELS))
    for photo in PHOTOS:
        (pooled,) = _run(extractor, _tensor(photo))
        embedding = (pooled.reshape(-1).astype(np.float32) - quant[1]) * quant[0]
        logits = head.logits(embedding[None])[0]
        expected = np.exp(logits - logits.max())
        expected /= expected.sum()
        (scores,) = _run(classifier, _tensor(photo))
        assert np.abs(scores[0] / 256.0 - expected).max() < 0.05, photo


def test_labels_are_embedded_as_a_zip_the_project_reads(tmp_path: Path, base: str) -> None:
    names = ["daisy", "3 rose", "red tulip"]
    path = tmp_path / "model.tflite"
    path.write_bytes(surgery.classifier_model(_base(base), _head(), names))
    assert embedded_labels(path) == dict(enumerate(names))
    with zipfile.ZipFile(path) as archive:
        assert archive.namelist() == ["labels.txt"] and archive.testzip() is None


def test_dual_output_adds_the_embedding_and_keeps_the_scores(base: str) -> None:
    classifier = surgery.classifier_model(_base(base), _head(), LABELS)
    dual = surgery.dual_output_model(classifier)
    extractor = _interpreter(surgery.extractor_model(_base(base)))
    plain, both = _interpreter(classifier), _interpreter(dual)
    assert [list(d["shape"]) for d in both.get_output_details()] == [[1, 3], [1, 1, 1, 1280]]
    for photo in PHOTOS:
        scores, pooled = _run(both, _tensor(photo))
        np.testing.assert_array_equal(scores, _run(plain, _tensor(photo))[0])
        np.testing.assert_array_equal(pooled, _run(extractor, _tensor(photo))[0])
    with zipfile.ZipFile(__import__("io").BytesIO(dual)) as archive:
        assert archive.read("labels.txt").decode().split() == LABELS


def test_tails_replay_the_whole_model_exactly(base: str) -> None:
    classifier = surgery.classifier_model(_base(base), _head(), LABELS)
    extractor = _interpreter(surgery.extractor_model(_base(base), (POOLED, FEATURES)))
    whole = _interpreter(classifier)
    from_pooled = _interpreter(surgery.tail_model(classifier, POOLED))
    from_features = _interpreter(surgery.tail_model(classifier, FEATURES))
    block_only = _interpreter(surgery.tail_model(classifier, FEATURES, POOLED))
    for photo in PHOTOS:
        pooled, features = _run(extractor, _tensor(photo))
        (expected,) = _run(whole, _tensor(photo))
        np.testing.assert_array_equal(_run(from_pooled, pooled)[0], expected)
        np.testing.assert_array_equal(_run(from_features, features)[0], expected)
        np.testing.assert_array_equal(_run(block_only, features)[0], pooled)


def test_requantized_block_stays_close_to_the_original(base: str) -> None:
    model = surgery.load(_base(base))
    site = surgery.find_head(model)
    block = surgery.read_conv(model, site.block())
    original = _interpreter(surgery.extractor_model(_base(base)))
    rewritten = _interpreter(surgery.extractor_model(surgery.classifier_model(_base(base), _head(), LABELS, block)))
    for photo in PHOTOS:
        a, b = (_run(i, _tensor(photo))[0].astype(np.int32) for i in (original, rewritten))
        assert np.abs(a - b).max() <= 2, photo  # a re-rounding, at most a step or two of the pooled output
    changed = surgery.Conv(block.weights * 0.5, block.bias)
    halved = _interpreter(surgery.extractor_model(surgery.classifier_model(_base(base), _head(), LABELS, changed)))
    assert not np.array_equal(_run(halved, _tensor(PHOTOS[0]))[0], _run(original, _tensor(PHOTOS[0]))[0])


@pytest.mark.parametrize(
    ("model", "found"),
    [
        ("mobilenet_v1_1.0_224_quant_embedding_extractor.tflite", "AVERAGE_POOL_2D (output [1, 1, 1, 1024])"),
        ("keras_lstm_mnist_ptq_edgetpu.tflite", "CUSTOM (edgetpu-custom-op)"),
    ],
)
def test_models_without_the_head_say_what_they_have(model: str, found: str) -> None:
    with pytest.raises(EdgeAppError) as error:
        surgery.find_head(surgery.load((MODELS / model).read_bytes(), model), model)
    assert found in error.value.message and "CONV_2D 1x1 -> RESHAPE -> SOFTMAX" in error.value.message


def test_not_a_model_is_one_clear_error() -> None:
    with pytest.raises(EdgeAppError, match="not a TFLite model"):
        surgery.load(b"hello world, no flatbuffer here", "notes.txt")
    with pytest.raises(EdgeAppError, match="not a valid TFLite model"):
        surgery.load(b"\x10\x00\x00\x00TFL3" + b"\xff" * 40, "broken.tflite")


def test_top_parts_are_the_last_block_and_whole_inverted_residual_blocks_below_it(base: str) -> None:
    model = surgery.load(_base(base))
    site = surgery.find_head(model, base)
    kinds = {n: [op.kind for op in surgery.top_part(model, site, n).ops] for n in (1, 2, 3)}
    assert kinds[1] == ["conv"]
    assert kinds[2] == ["conv", "depthwise", "conv", "conv"]  # 160 -> 960 -> 320: no residual
    assert kinds[3] == ["conv", "depthwise", "conv", "add", *kinds[2]]  # 160 -> 960 -> 160, with one
    part = surgery.top_part(model, site, 3)
    graph = model.subgraphs[0]
    assert surgery._shape(graph, part.cut) == [1, 7, 7, 160]
    shapes = [None if w is None else w[0].shape for w in surgery.read_part(model, part)]
    assert shapes[:4] == [(960, 1, 1, 160), (1, 3, 3, 960), (160, 1, 1, 960), None]
    assert [op.relu6 for op in part.ops[:4]] == [True, True, False, False]
    with pytest.raises(EdgeAppError) as error:
        surgery.top_part(model, site, 30)
    assert "use --fine-tune" in (error.value.hint or "")


def test_a_tail_from_a_deeper_cut_replays_the_whole_model_exactly(base: str) -> None:
    classifier = surgery.classifier_model(_base(base), _head(), LABELS)
    cut = surgery.cut_name(3)
    extractor = _interpreter(surgery.extractor_model(_base(base), (cut,)))
    whole = _interpreter(classifier)
    tail = _interpreter(surgery.tail_model(classifier, cut))
    for photo in PHOTOS:
        (raw,) = _run(extractor, _tensor(photo))
        assert raw.shape == (1, 7, 7, 160)
        np.testing.assert_array_equal(_run(tail, raw)[0], _run(whole, _tensor(photo))[0])


def test_a_rewritten_top_part_stays_close_and_a_changed_one_changes(base: str) -> None:
    model = surgery.load(_base(base))
    part = surgery.top_part(model, surgery.find_head(model), 3)
    weights = surgery.read_part(model, part)
    original = _interpreter(surgery.extractor_model(_base(base)))

    def rewritten(new: list) -> Interpreter:
        retrained = surgery.Retrained(3, tuple(new), {})
        return _interpreter(surgery.extractor_model(surgery.classifier_model(_base(base), _head(), LABELS, retrained)))

    same = rewritten(weights)
    for photo in PHOTOS:
        a, b = (_run(i, _tensor(photo))[0].astype(np.int32) for i in (original, same))
        # re-rounded weights: per-channel int8 keeps them exactly, per-tensor uint8 moves the pooled
        # output by at most a couple of steps per block rewritten (measured: up to 6 of 255 for 3 blocks)
        assert np.abs(a - b).max() <= 2 * part.blocks and np.abs(a - b).mean() < 1.0, photo
    halved = [w if w is None or i != 1 else (w[0] * 0.5, w[1]) for i, w in enumerate(weights)]  # the depthwise
    changed = rewritten(halved)
    assert not np.array_equal(_run(changed, _tensor(PHOTOS[0]))[0], _run(original, _tensor(PHOTOS[0]))[0])
