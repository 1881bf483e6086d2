"""Quantizing trained weights the way TFLite's kernels want them: pure numpy."""

from __future__ import annotations

import numpy as np
import pytest

from edge_app.train.quant import Quant, Scheme, activation_quant, quantize_bias, quantize_weights

RNG = np.random.default_rng(0)
WEIGHTS = RNG.normal(0, 0.05, (6, 32)).astype(np.float32)


def test_uint8_per_tensor_is_asymmetric_and_within_half_a_step() -> None:
    q, quant = quantize_weights(WEIGHTS, Scheme(np.dtype(np.uint8), False))
    assert q.dtype == np.uint8 and len(quant.scale) == 1
    assert np.abs(quant.dequantize(q) - WEIGHTS).max() <= quant.scale[0] / 2 + 1e-7
    assert quant.dequantize(np.array([quant.zero_point[0]], np.uint8))[0] == 0.0  # zero is exact


def test_int8_per_channel_is_symmetric_with_a_scale_per_output() -> None:
    weights = WEIGHTS.copy()
    weights[2] = 0.0  # a dead channel still gets a usable scale
    q, quant = quantize_weights(weights, Scheme(np.dtype(np.int8), True))
    assert q.dtype == np.int8 and len(quant.scale) == 6 and not quant.zero_point.any()
    assert np.abs(q).max() <= 127 and (quant.scale > 0).all()
    error = np.abs(quant.dequantize(q) - weights).max(axis=1)
    assert (error <= quant.scale / 2 + 1e-7).all()
    assert not q[2].any()


def test_uint8_per_channel_is_refused() -> None:
    with pytest.raises(ValueError):
        quantize_weights(WEIGHTS, Scheme(np.dtype(np.uint8), True))


def test_bias_is_int32_at_input_times_weight_scale() -> None:
    _, w_quant = quantize_weights(WEIGHTS, Scheme(np.dtype(np.int8), True))
    bias = RNG.normal(0, 1, 6)
    q, b_quant = quantize_bias(bias, 0.02, w_quant)
    assert q.dtype == np.int32
    np.testing.assert_allclose(b_quant.scale, np.float32(0.02) * w_quant.scale, rtol=1e-6)
    np.testing.assert_allclose(b_quant.dequantize(q), bias, atol=float(b_quant.scale.max()))


@pytest.mark.parametrize("dtype", [np.uint8, np.int8])
def test_activation_range_always_holds_zero(dtype: type) -> None:
    quant = activation_quant(2.0, 10.0, np.dtype(dtype))  # zero is pulled in
    info = np.iinfo(dtype)
    assert quant.zero_point[0] == info.min
    values = quant.quantize(np.array([0.0, 10.0, 11.0]), np.dtype(dtype))
    assert values.tolist() == [info.min, info.max, info.max]
    wide = activation_quant(-5.0, 15.0, np.dtype(dtype))
    np.testing.assert_allclose(
        wide.dequantize(wide.quantize(np.array([-5.0, 0.0, 15.0]), np.dtype(dtype))), [-5, 0, 15], atol=wide.scale[0]
    )


def test_per_channel_dequantize_broadcasts_along_dim() -> None:
    quant = Quant(np.array([1.0, 2.0], np.float32), np.array([0, 1]), dim=0)
    assert quant.dequantize(np.array([[1, 1], [1, 3]])).tolist() == [[1.0, 1.0], [0.0, 4.0]]
