"""Fine-tuning the last 1x1 block: the numpy forward/backward on synthetic features."""

from __future__ import annotations

import numpy as np

from edge_app.train.finetune import FineTuneOptions, fine_tune, pool_features
from edge_app.train.head import HeadOptions, fit_head
from edge_app.train.quant import Quant
from edge_app.train.surgery import Conv

QUANT = Quant.per_tensor(0.05, 128)


def data(per_class: int = 12, seed: int = 0) -> tuple[np.ndarray, np.ndarray, Conv]:
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(3), per_class)
    pattern = rng.normal(0, 1, (3, 8))
    real = pattern[y][:, None, None, :] + rng.normal(0, 1.2, (len(y), 3, 3, 8))
    raw = QUANT.quantize(real, np.dtype(np.uint8))
    block = Conv(rng.normal(0, 0.3, (16, 8)).astype(np.float32), rng.normal(0.5, 0.1, 16).astype(np.float32))
    return raw, y, block


def test_pool_features_is_mean_of_relu6_conv() -> None:
    raw, _, block = data()
    x = QUANT.dequantize(raw[:2])
    expected = np.clip(np.einsum("nhwc,oc->nhwo", x, block.weights) + block.bias, 0, 6).mean(axis=(1, 2))
    np.testing.assert_allclose(pool_features(raw[:2], QUANT, block), expected, rtol=1e-5, atol=1e-5)


def test_fine_tuning_lowers_the_training_loss_and_stays_near_the_start() -> None:
    raw, y, block = data()
    head = fit_head(pool_features(raw, QUANT, block), y, 3, HeadOptions(l2=1.0))  # a weak start leaves room
    options = FineTuneOptions(epochs=6, batch=8, block_lr=1e-2, head_lr=1e-2)
    epochs: list[int] = []
    tuned = fine_tune(raw, QUANT, y, block, head, options, on_epoch=lambda: epochs.append(1))
    assert tuned.epochs == 6 == len(epochs) == len(tuned.losses)
    assert tuned.losses[-1] < tuned.losses[0]
    assert not np.array_equal(tuned.block.weights, block.weights)
    assert np.abs(tuned.block.weights - block.weights).max() < 1.0
    again = fine_tune(raw, QUANT, y, block, head, options)
    np.testing.assert_array_equal(tuned.block.weights, again.block.weights)  # seeded minibatches


def test_the_time_budget_ends_after_an_epoch() -> None:
    raw, y, block = data()
    head = fit_head(pool_features(raw, QUANT, block), y, 3)
    tuned = fine_tune(raw, QUANT, y, block, head, FineTuneOptions(epochs=50, budget_s=0.0))
    assert tuned.epochs == 1
