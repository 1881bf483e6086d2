"""Fine-tuning the last 1x1 convolution block (e.g. 320 -> 1280, ReLU6) together with the head.

Numpy, from the cached features that enter the block (7x7x320 per photo view): forward
conv + ReLU6 + mean pooling + head, backward by hand, Adam on minibatches. The block starts from
the base's dequantized weights and moves with a learning rate ten times lower than the head's,
pulled back towards its start (L2-SP), so a few hundred photos adjust it rather than overwrite it.
A time budget bounds the run.

The result is requantized as the base is quantized (surgery) and judged on the validation photos
by the trainer; it is kept only when it is no worse than the head alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from edge_app.train.head import Head, Standardizer
from edge_app.train.quant import Quant
from edge_app.train.surgery import Conv

RELU6 = 6.0


@dataclass(frozen=True)
class FineTuneOptions:
    epochs: int = 8
    head_lr: float = 1e-3
    block_lr: float = 1e-4
    batch: int = 32
    anchor: float = 1e-2  # L2-SP: pull of the block's weights towards the pretrained ones
    l2: float = 1e-3  # on the head's weights, scaled like the standardised head's
    budget_s: float = 30.0  # stop after the epoch that passes this
    seed: int = 0


@dataclass(frozen=True)
class FineTuned:
    block: Conv  # the head trained with it is not kept: the caller refits one on the requantized block's embeddings
    epochs: int  # completed
    seconds: float
    losses: list[float]  # mean training loss per epoch


class _Adam:
    def __init__(self, params: list[np.ndarray], rates: list[float], beta1: float = 0.9, beta2: float = 0.999) -> None:
        self.params, self.rates = params, rates
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.beta1, self.beta2, self.t = beta1, beta2, 0

    def step(self, grads: list[np.ndarray]) -> None:
        self.t += 1
        c1, c2 = 1 - self.beta1**self.t, 1 - self.beta2**self.t
        for p, g, m, v, rate in zip(self.params, grads, self.m, self.v, self.rates):
            m *= self.beta1
            m += (1 - self.beta1) * g
            v *= self.beta2
            v += (1 - self.beta2) * g * g
            p -= rate * (m / c1) / (np.sqrt(v / c2) + 1e-8)


def pool_features(features: np.ndarray, quant: Quant, block: Conv, batch: int = 64) -> np.ndarray:
    """The float pooled embedding the block gives: mean over positions of ReLU6(conv)."""
    out = np.empty((len(features), block.weights.shape[0]), np.float32)
    for start in range(0, len(features), batch):
        x = quant.dequantize(features[start : start + batch])
        flat = x.reshape(-1, x.shape[-1])
        act = np.clip(flat @ block.weights.T + block.bias, 0.0, RELU6)
        out[start : start + batch] = act.reshape(len(x), -1, act.shape[-1]).mean(axis=1)
    return out


def fine_tune(
    features: np.ndarray,
    quant: Quant,
    y: np.ndarray,
    block: Conv,
    head: Head,
    options: FineTuneOptions = FineTuneOptions(),
    on_epoch: Callable[[], None] | None = None,
) -> FineTuned:
    """features: (n, h, w, c) raw integers with their quantization; y: (n,) classes; `head`
    (trained on the unchanged block's embeddings) is where the head starts."""
    started = time.perf_counter()
    w1, b1 = block.weights.astype(np.float32).copy(), block.bias.astype(np.float32).copy()
    w1_start = w1.copy()
    w2, b2 = head.weights.astype(np.float32).copy(), head.bias.astype(np.float32).copy()
    scale2 = Standardizer.of(pool_features(features, quant, block)).scale.astype(np.float32) ** 2
    adam = _Adam([w1, b1, w2, b2], [options.block_lr, options.block_lr, options.head_lr, options.head_lr])
    rng = np.random.default_rng(options.seed)
    n = len(features)
    losses: list[float] = []
    for _ in range(options.epochs):
        total = 0.0
        for rows in np.array_split(rng.permutation(n), max(1, n // options.batch)):
            x = quant.dequantize(features[rows])
            positions = x.shape[1] * x.shape[2]
            flat = x.reshape(-1, x.shape[-1])
            pre = flat @ w1.T + b1
            act = np.clip(pre, 0.0, RELU6)
            pooled = act.reshape(len(rows), positions, -1).mean(axis=1)
            z = pooled @ w2.T + b2
            z -= z.max(axis=1, keepdims=True)
            p = np.exp(z)
            p /= p.sum(axis=1, keepdims=True)
            total += float(-np.log(p[np.arange(len(rows)), y[rows]] + 1e-12).sum())
            p[np.arange(len(rows)), y[rows]] -= 1.0
            dz = p / len(rows)
            grad_w2 = dz.T @ pooled + options.l2 * w2 * scale2
            grad_b2 = dz.sum(axis=0)
            dpre = np.repeat((dz @ w2) / positions, positions, axis=0) * ((pre > 0) & (pre < RELU6))
            grad_w1 = dpre.T @ flat + options.anchor * (w1 - w1_start)
            grad_b1 = dpre.sum(axis=0)
            adam.step([grad_w1, grad_b1, grad_w2, grad_b2])
        losses.append(total / n)
        if on_epoch:
            on_epoch()
        if time.perf_counter() - started > options.budget_s:
            break
    return FineTuned(Conv(w1, b1), len(losses), time.perf_counter() - started, losses)
