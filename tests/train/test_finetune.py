"""Fine-tuning the top blocks (JAX): the depthwise placement matrices against a direct
convolution, the float forward pass against the base model's own integer arithmetic, and the
training loop (loss, seeding, early stopping, the weights' anchor) on a small synthetic part."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("jax", reason="the finetune extra (jax, optax) is not installed")

from edge_app.train.finetune import (
    PATIENCE,
    FineTuned,
    Program,
    TrialParams,
    TuneData,
    calibrated_ranges,
    depthwise_matrices,
    even_chunk,
)
from edge_app.train.head import HeadOptions, fit_head
from edge_app.train.quant import Quant
from edge_app.train.surgery import Part, PartOp

QUANT = Quant.per_tensor(0.05, 128)


def _direct_depthwise(x: np.ndarray, w: np.ndarray, stride: int, same: bool) -> np.ndarray:
    """(h, w, c) input, (3, 3, c) kernel: TensorFlow's padding rule, written out loop by loop."""
    h, wid, c = x.shape
    if same:
        oh, ow = -(-h // stride), -(-wid // stride)
        pad_h, pad_w = max((oh - 1) * stride + 3 - h, 0), max((ow - 1) * stride + 3 - wid, 0)
        top, left = pad_h // 2, pad_w // 2
    else:
        oh, ow, top, left = (h - 3) // stride + 1, (wid - 3) // stride + 1, 0, 0
    out = np.zeros((oh, ow, c))
    for y in range(oh):
        for x_ in range(ow):
            for i in range(3):
                for j in range(3):
                    iy, ix = y * stride + i - top, x_ * stride + j - left
                    if 0 <= iy < h and 0 <= ix < wid:
                        out[y, x_] += x[iy, ix] * w[i, j]
    return out


@pytest.mark.parametrize(("size", "stride", "same"), [(7, 1, True), (8, 2, True), (7, 2, True), (7, 1, False)])
def test_depthwise_matrices_place_the_window_as_tensorflow_does(size: int, stride: int, same: bool) -> None:
    rng = np.random.default_rng(size + stride)
    op = PartOp(index=0, kind="depthwise", inputs=(0,), output=1, relu6=False, stride=stride, same=same)
    taps, oh, ow = depthwise_matrices(op, size, size)
    x, w = rng.normal(size=(size, size, 4)), rng.normal(size=(3, 3, 4))
    mixed = np.einsum("kqp,kc->cqp", taps, w.reshape(9, 4))
    ours = np.einsum("cqp,pc->qc", mixed, x.reshape(size * size, 4)).reshape(oh, ow, 4)
    np.testing.assert_allclose(ours, _direct_depthwise(x, w, stride, same), atol=1e-9)


def _part() -> tuple[Part, list]:
    """expand 1x1 (8 -> 16, ReLU6), depthwise 3x3 (ReLU6), project 1x1 (16 -> 8), residual add,
    then the last 1x1 (8 -> 24, ReLU6): the shape of MobileNetV2's top, small."""
    rng = np.random.default_rng(1)
    ops = (
        PartOp(0, "conv", (0,), 1, True, 1, True, 10, 11),
        PartOp(1, "depthwise", (1,), 2, True, 1, True, 12, 13),
        PartOp(2, "conv", (2,), 3, False, 1, True, 14, 15),
        PartOp(3, "add", (3, 0), 4, False, 1, True),
        PartOp(4, "conv", (4,), 5, True, 1, True, 16, 17),
    )
    weights = [
        (rng.normal(0, 0.4, (16, 1, 1, 8)), rng.normal(0.2, 0.1, 16)),
        (rng.normal(0, 0.3, (1, 3, 3, 16)), rng.normal(0.1, 0.1, 16)),
        (rng.normal(0, 0.3, (8, 1, 1, 16)), rng.normal(0, 0.1, 8)),
        None,
        (rng.normal(0, 0.3, (24, 1, 1, 8)), rng.normal(0.3, 0.1, 24)),
    ]
    return Part(2, 0, ops), [None if w is None else (w[0].astype(np.float32), w[1].astype(np.float32)) for w in weights]


def _reference_pooled(weights: list, x: np.ndarray) -> np.ndarray:
    """The synthetic part in plain numpy, for one photo (h, w, c)."""
    (ew, eb), (dw, db), (pw, pb), _, (lw, lb) = weights
    expanded = np.clip(x @ ew.reshape(16, 8).T + eb, 0, 6)
    depth = np.clip(_direct_depthwise(expanded, dw[0], 1, True) + db, 0, 6)
    projected = depth @ pw.reshape(8, 16).T + pb + x
    return np.clip(projected @ lw.reshape(24, 8).T + lb, 0, 6).mean(axis=(0, 1))


def _data(per_class: int = 16, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(3), per_class)
    pattern = rng.normal(0, 1, (3, 8))
    real = pattern[y][:, None, None, :] + rng.normal(0, 1.5, (len(y), 3, 3, 8))
    return QUANT.quantize(real, np.dtype(np.uint8)), y


def test_validation_chunks_cover_every_row_with_little_padding() -> None:
    for rows in range(1, 1200):
        size = even_chunk(rows, 128)
        chunks = -(-rows // size)
        assert size <= 128 and size % 8 == 0
        assert chunks == -(-rows // 128)  # as few chunks as the limit allows
        assert chunks * size - rows < 8 * chunks  # each pads less than 8 rows
    assert even_chunk(96, 128) == 96  # a 480-photo dataset's validation split, in one call


def test_the_forward_pass_is_the_parts_arithmetic() -> None:
    part, weights = _part()
    program = Program(part, weights, QUANT, (3, 3, 8))
    raw, _ = _data(2)
    ours = program.pooled(weights, raw)
    expected = np.stack([_reference_pooled(weights, QUANT.dequantize(r)) for r in raw])
    np.testing.assert_allclose(ours, expected, rtol=1e-4, atol=1e-4)


def _tune(
    program: Program, weights: list, params: TrialParams, patience: int = PATIENCE, **kwargs: object
) -> FineTuned:
    raw, y = _data()
    val_raw, val_y = _data(8, seed=1)
    views = np.stack([raw, raw[:, :, ::-1]], axis=1)  # an original and a mirrored view per photo
    head = fit_head(program.pooled(weights, raw), y, 3, HeadOptions(l2=3.0))  # a weak start leaves room
    return program.train(TuneData(views, y, val_raw, val_y, QUANT), head, params, 0, patience, **kwargs)  # type: ignore[arg-type]


def test_training_lowers_the_loss_is_seeded_and_stays_near_the_start() -> None:
    part, weights = _part()
    program = Program(part, weights, QUANT, (3, 3, 8))
    params = TrialParams(lr=1e-2, batch_size=16, epochs=6, weight_decay=1e-3, blocks=2, augment=1)
    epochs: list[int] = []
    tuned = _tune(program, weights, params, patience=100, on_epoch=lambda: epochs.append(1))
    assert len(tuned.curves) == 6 == len(epochs)
    assert tuned.curves[-1].train_loss < tuned.curves[0].train_loss
    assert all(0.0 <= e.val_top1 <= 1.0 and 0.0 <= e.train_top1 <= 1.0 for e in tuned.curves)
    pairs = [(a[0], b[0]) for a, b in zip(tuned.weights, weights) if a is not None and b is not None]
    assert len(pairs) == 4 and all(not np.array_equal(a, b) for a, b in pairs)
    assert max(np.abs(a - b).max() for a, b in pairs) < 0.5  # adjusted, not overwritten
    again = _tune(program, weights, params, patience=100)
    assert [e.val_loss for e in again.curves] == [e.val_loss for e in tuned.curves]  # seeded batches and views
    first, again_first = tuned.weights[0], again.weights[0]
    assert first is not None and again_first is not None
    np.testing.assert_array_equal(again_first[0], first[0])


def test_early_stopping_keeps_the_best_epoch() -> None:
    part, weights = _part()
    program = Program(part, weights, QUANT, (3, 3, 8))
    tuned = _tune(program, weights, TrialParams(lr=0.5, batch_size=8, epochs=30, blocks=2, augment=1))  # too fast
    losses = [e.val_loss for e in tuned.curves]
    assert tuned.val_loss == min(losses) == losses[tuned.best_epoch - 1]
    assert len(tuned.curves) < 30 and len(tuned.curves) - tuned.best_epoch == PATIENCE


def test_a_pruned_trial_stops_where_the_rule_says_and_keeps_its_best_epoch() -> None:
    part, weights = _part()
    program = Program(part, weights, QUANT, (3, 3, 8))
    params = TrialParams(lr=1e-2, batch_size=16, epochs=6, weight_decay=1e-3, blocks=2, augment=1)
    seen: list[list[float]] = []

    def prune(losses: list[float]) -> bool:
        seen.append(list(losses))
        return len(losses) == 3

    tuned = _tune(program, weights, params, patience=100, prune=prune)
    assert tuned.pruned and len(tuned.curves) == 3
    assert seen == [[e.val_loss for e in tuned.curves[:n]] for n in (1, 2, 3)]
    assert tuned.val_loss == min(e.val_loss for e in tuned.curves)
    whole = _tune(program, weights, params, patience=100, prune=lambda losses: False)
    assert not whole.pruned and len(whole.curves) == 6
    assert [e.val_loss for e in whole.curves[:3]] == [e.val_loss for e in tuned.curves]  # the same run, cut short


def test_ranges_calibrate_only_the_outputs_relu6_does_not_bound() -> None:
    part, weights = _part()
    program = Program(part, weights, QUANT, (3, 3, 8))
    raw, _ = _data()
    ranges = program.output_ranges(weights, raw)
    assert len(ranges) == len(part.ops) and all(low <= high for low, high in ranges)
    assert 0.0 <= ranges[0][0] and ranges[0][1] <= 6.0  # ReLU6
    assert sorted(calibrated_ranges(part, ranges)) == [2, 3]  # the project and the residual add


@pytest.mark.shared
@pytest.mark.parametrize("base", ["mobilenet_v2_1.0_224_quant", "tf2_mobilenet_v2_1.0_224_ptq"])
def test_the_float_part_computes_what_the_base_model_does(base: str) -> None:
    """Fed the cut tensors of real photos, the float part (the base's dequantized weights) gives
    the pooled embedding of the base's own integer arithmetic, up to its rounding."""
    from ai_edge_litert.interpreter import Interpreter

    from edge_app.images import read_image
    from edge_app.model.preprocess import InputSpec, to_tensor
    from edge_app.train import surgery
    from tests.helpers.shared_data import IMAGES, MODELS

    data = (MODELS / f"{base}.tflite").read_bytes()
    model = surgery.load(data)
    site = surgery.find_head(model)
    part = surgery.top_part(model, site, 3)
    extractor = Interpreter(model_content=surgery.extractor_model(data, (surgery.POOLED, surgery.cut_name(3))))
    extractor.allocate_tensors()
    outputs = extractor.get_output_details()
    raws, pooled = [], []
    for photo in ("parrot.jpg", "sunflower.bmp", "cat.bmp", "owl.jpg"):
        tensor = to_tensor(read_image(IMAGES / photo), InputSpec(224, 224, np.dtype(np.uint8)), "bgr")
        extractor.set_tensor(extractor.get_input_details()[0]["index"], tensor)
        extractor.invoke()
        found = {d["name"]: (extractor.get_tensor(d["index"])[0], d["quantization"]) for d in outputs}
        (p, (p_scale, p_zero)), (r, (r_scale, r_zero)) = sorted(found.values(), key=lambda v: v[0].ndim)
        pooled.append((p.reshape(-1).astype(np.float64) - p_zero) * p_scale)
        raws.append(r)
    weights = surgery.read_part(model, part)
    program = Program(part, weights, Quant.per_tensor(r_scale, r_zero), (7, 7, 160))
    ours = program.pooled(weights, np.stack(raws))
    expected = np.stack(pooled)
    assert np.abs(ours - expected).max() < 0.05 * np.abs(expected).max()
    assert np.corrcoef(ours.ravel(), expected.ravel())[0, 1] > 0.995
