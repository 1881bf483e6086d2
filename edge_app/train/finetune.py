"""Fine-tuning the top blocks together with the head, with JAX autodiff and optax's Adam.

The trained part (surgery.Part: the last 1x1 block and the inverted-residual blocks below it) is
run in float from the cached raw tensors that enter it, so an epoch costs only the part. Its
weights start from the base's dequantized ones; the head starts from the L-BFGS head. Per epoch,
each training photo is seen once, in one view drawn from its first `1 + augment` cached views.

- mini-batches (the last one padded and masked, so every step of a run has one compiled shape);
- Adam (optax.scale_by_adam) with decoupled weight decay: towards zero for the head, towards the
  pretrained weights for the blocks (L2-SP), which also move at a tenth of the head's rate, so a
  few hundred photos adjust them rather than overwrite them;
- a linear warm-up over the first epoch, then cosine decay (optax.warmup_cosine_decay_schedule);
- early stopping on the validation loss (patience in epochs): the best epoch's weights are kept;
  in a search, also the median stopping rule against the earlier trials (pruning.py).

A depthwise 3x3 convolution on a 7x7 map is computed as one (positions x positions) matrix per
channel: XLA's CPU kernels for grouped convolutions (and their gradients) are about 20 times
slower than that product here.

JAX and optax are the `finetune` extra, imported on first use.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from edge_app.errors import EdgeAppError
from edge_app.train.head import Head
from edge_app.train.quant import Quant
from edge_app.train.surgery import Part, PartOp

BLOCK_RATE = 0.1  # the blocks' learning rate, as a share of the head's
EVAL_CHUNK = 64
VAL_CHUNK = 128  # at most, rows of validation scored at once
PATIENCE = 2  # epochs without a better validation loss before a trial stops
Weights = list[tuple[np.ndarray, np.ndarray] | None]


def require_jax() -> tuple[Any, Any]:
    """jax and optax, or one clear line about the extra."""
    try:
        import jax
        import optax
    except ImportError:
        raise EdgeAppError(
            "--fine-tune needs JAX and optax, which are not installed",
            "install the extra: pip install 'edge-app[finetune]' (or train the head only: --fine-tune 0)",
        ) from None
    return jax, optax


@dataclass(frozen=True)
class TrialParams:
    """One training run's settings: what the hyperparameter search varies."""

    lr: float = 1e-3  # the head's peak learning rate
    batch_size: int = 32
    epochs: int = 12  # at most; early stopping may end sooner
    weight_decay: float = 1e-3
    blocks: int = 1  # 1: the last 1x1 block; k: also the k-1 inverted-residual blocks below it
    augment: int = 2  # augmented views a photo's epoch view is drawn from (0: the original only)

    def as_dict(self) -> dict[str, float | int]:
        return {
            "lr": self.lr,
            "batch_size": self.batch_size,
            "epochs": self.epochs,
            "weight_decay": self.weight_decay,
            "blocks": self.blocks,
            "augment": self.augment,
        }


@dataclass(frozen=True)
class TuneData:
    """Raw tensors entering the part: training (photos, views, h, w, c) and validation (n, h, w, c)."""

    train: np.ndarray
    y_train: np.ndarray
    val: np.ndarray
    y_val: np.ndarray
    quant: Quant  # of the raw tensors (per tensor)


@dataclass(frozen=True)
class Epoch:
    train_loss: float
    train_top1: float
    val_loss: float
    val_top1: float


@dataclass(frozen=True)
class FineTuned:
    params: TrialParams
    weights: Weights  # the best epoch's part weights, in the file's layout (surgery.read_part)
    curves: list[Epoch]
    best_epoch: int  # 1-based
    seconds: float
    pruned: bool = False  # stopped by the search's median rule, not by its own patience

    @property
    def val_loss(self) -> float:
        return self.curves[self.best_epoch - 1].val_loss

    @property
    def val_top1(self) -> float:
        return self.curves[self.best_epoch - 1].val_top1


def depthwise_matrices(op: PartOp, height: int, width: int) -> tuple[np.ndarray, int, int]:
    """0/1 (taps, out positions, in positions) matrices of a depthwise conv's window placement
    (TensorFlow's SAME or VALID padding), and the output size."""
    kh, kw = 3, 3
    s = op.stride
    if op.same:
        oh, ow = -(-height // s), -(-width // s)
        top = max((oh - 1) * s + kh - height, 0) // 2
        left = max((ow - 1) * s + kw - width, 0) // 2
    else:
        oh, ow, top, left = (height - kh) // s + 1, (width - kw) // s + 1, 0, 0
    taps = np.zeros((kh * kw, oh * ow, height * width), np.float32)
    for i in range(kh):
        for j in range(kw):
            for y in range(oh):
                for x in range(ow):
                    iy, ix = y * s + i - top, x * s + j - left
                    if 0 <= iy < height and 0 <= ix < width:
                        taps[i * kw + j, y * ow + x, iy * width + ix] = 1.0
    return taps, oh, ow


@dataclass
class Program:
    """The part's float forward pass, loss, training step and evaluation, compiled once per run
    and part (jax.jit caches them per batch shape)."""

    part: Part
    start: Weights  # pretrained weights (the L2-SP anchor)
    quant: Quant
    input_shape: tuple[int, ...]  # (h, w, c) of the cut tensor
    _compiled: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        jax, optax = require_jax()
        jnp = jax.numpy
        self._jax, self._optax = jax, optax
        taps: list[Any] = []
        shape = self.input_shape
        for op, weights in zip(self.part.ops, self.start):
            if op.kind == "depthwise":
                found, oh, ow = depthwise_matrices(op, shape[0], shape[1])
                taps.append((jnp.asarray(found), oh, ow))
                shape = (oh, ow, shape[2])
            else:
                taps.append(None)
                if weights is not None:
                    shape = (shape[0], shape[1], weights[0].shape[0])
        self._taps = taps
        scale, zero = float(self.quant.scale[0]), float(self.quant.zero_point[0])

        def dequantize(raw: Any) -> Any:
            return (raw.astype(jnp.float32) - zero) * scale

        def pooled(blocks: Any, raw: Any) -> Any:
            return run(blocks, dequantize(raw))[-1].mean(axis=(1, 2))

        def run(blocks: Any, x: Any) -> list[Any]:
            values = [x]
            produced = {self.part.cut: 0}
            for op, params, tap in zip(self.part.ops, blocks, self._taps):
                inputs = [values[produced[t]] for t in op.inputs]
                if op.kind == "add":
                    out = inputs[0] + inputs[1]
                elif op.kind == "depthwise":
                    (w, b), (matrices, oh, ow) = params, tap
                    n, h, wid, c = inputs[0].shape
                    mixing = jnp.einsum("kqp,kc->cqp", matrices, w.reshape(-1, c))
                    channels_first = jnp.transpose(inputs[0].reshape(n, h * wid, c), (2, 1, 0))  # (c, p, n)
                    out = jnp.transpose(jnp.matmul(mixing, channels_first), (2, 1, 0))  # one batched product
                    out = out.reshape(n, oh, ow, c) + b
                else:
                    w, b = params
                    x_in = inputs[0][:, :: op.stride, :: op.stride] if op.stride > 1 else inputs[0]
                    flat = x_in.reshape(-1, x_in.shape[-1])  # 2-D products: their gradients are twice as fast
                    out = (flat @ w.reshape(w.shape[0], -1).T + b).reshape(*x_in.shape[:-1], w.shape[0])
                if op.relu6:
                    out = jnp.clip(out, 0.0, 6.0)
                produced[op.output] = len(values)
                values.append(out)
            return values[1:]

        def loss(params: Any, raw: Any, y: Any, mask: Any) -> tuple[Any, Any]:
            blocks, (hw, hb) = params
            logits = pooled(blocks, raw) @ hw.T + hb
            each = optax.softmax_cross_entropy_with_integer_labels(logits, y)
            return (each * mask).sum() / mask.sum(), logits

        adam = optax.scale_by_adam()

        def step(params: Any, state: Any, anchor: Any, raw: Any, y: Any, mask: Any, lr: Any, decay: Any) -> Any:
            (value, logits), grads = jax.value_and_grad(loss, has_aux=True)(params, raw, y, mask)
            updates, state = adam.update(grads, state)
            blocks, head = params
            new_blocks = jax.tree_util.tree_map(
                lambda p, u, p0: p - lr * BLOCK_RATE * (u + decay * (p - p0)), blocks, updates[0], anchor
            )
            new_head = jax.tree_util.tree_map(lambda p, u: p - lr * (u + decay * p), head, updates[1])
            correct = ((jnp.argmax(logits, axis=1) == y) * mask).sum()
            return (new_blocks, new_head), state, value * mask.sum(), correct

        def evaluate(params: Any, raw: Any, y: Any, mask: Any) -> tuple[Any, Any]:
            value, logits = loss(params, raw, y, mask)
            return value * mask.sum(), ((jnp.argmax(logits, axis=1) == y) * mask).sum()

        def ranges(blocks: Any, raw: Any) -> Any:
            outs = run(blocks, dequantize(raw))
            return jnp.stack([jnp.stack([o.min(), o.max()]) for o in outs])

        self._adam = adam
        self._step = jax.jit(step)
        self._evaluate = jax.jit(evaluate)
        self._ranges = jax.jit(ranges)
        self._pooled = jax.jit(pooled)

    def _device(self, weights: Weights) -> list[Any]:
        jnp = self._jax.numpy
        return [
            None if w is None else (jnp.asarray(w[0], jnp.float32), jnp.asarray(w[1], jnp.float32)) for w in weights
        ]

    def _host(self, blocks: Any) -> Weights:
        return [None if w is None else (np.asarray(w[0]), np.asarray(w[1])) for w in blocks]

    def _scored(self, params: Any, raw: np.ndarray, y: np.ndarray) -> tuple[float, float]:
        total, correct = 0.0, 0.0
        size = even_chunk(len(raw), VAL_CHUNK)
        for start in range(0, len(raw), size):
            chunk, labels, mask = _padded(raw[start : start + size], y[start : start + size], size)
            value, right = self._evaluate(params, chunk, labels, mask)
            total, correct = total + float(value), correct + float(right)
        return total / len(raw), correct / len(raw)

    def train(
        self,
        data: TuneData,
        head: Head,
        params: TrialParams,
        seed: int,
        patience: int = PATIENCE,
        on_epoch: Callable[[], None] | None = None,
        prune: Callable[[list[float]], bool] | None = None,
    ) -> FineTuned:
        """`prune` sees the validation losses so far after each epoch and may stop the trial there."""
        started = time.perf_counter()
        optax, jnp = self._optax, self._jax.numpy
        anchor = self._device(self.start)
        current: Any = (anchor, (jnp.asarray(head.weights), jnp.asarray(head.bias)))
        state = self._adam.init(current)
        photos = len(data.train)
        steps = -(-photos // params.batch_size)
        schedule = optax.warmup_cosine_decay_schedule(0.0, params.lr, steps, max(steps * params.epochs, steps + 1))
        rng = np.random.default_rng(seed)
        views = min(1 + params.augment, data.train.shape[1])
        curves: list[Epoch] = []
        best: tuple[float, int, Any] = (np.inf, 0, current)
        step, pruned = 0, False
        for epoch in range(params.epochs):
            order = rng.permutation(photos)
            view = rng.integers(0, views, photos)
            total, correct = 0.0, 0.0
            for batch in range(steps):
                rows = order[batch * params.batch_size : (batch + 1) * params.batch_size]
                raw, y, mask = _padded(data.train[rows, view[rows]], data.y_train[rows], params.batch_size)
                current, state, value, right = self._step(
                    current, state, anchor, raw, y, mask, float(schedule(step)), params.weight_decay
                )
                total, correct, step = total + float(value), correct + float(right), step + 1
            val_loss, val_top1 = self._scored(current, data.val, data.y_val)
            curves.append(Epoch(total / photos, correct / photos, val_loss, val_top1))
            if on_epoch:
                on_epoch()
            if val_loss < best[0]:
                best = (val_loss, epoch + 1, current)
            elif epoch + 1 - best[1] >= patience:
                break
            if epoch + 1 < params.epochs and prune and prune([e.val_loss for e in curves]):
                pruned = True
                break
        seconds = time.perf_counter() - started
        return FineTuned(params, self._host(best[2][0]), curves, best[1], seconds, pruned)

    def pooled(self, weights: Weights, raw: np.ndarray) -> np.ndarray:
        """The float pooled embedding (n, dim) the part computes from raw cut tensors (n, h, w, c)."""
        blocks = self._device(weights)
        found = []
        for start in range(0, len(raw), EVAL_CHUNK):
            chunk = raw[start : start + EVAL_CHUNK]
            padded, _, _ = _padded(chunk, np.zeros(len(chunk), np.int64), EVAL_CHUNK)
            found.append(np.asarray(self._pooled(blocks, padded))[: len(chunk)])
        return np.concatenate(found)

    def output_ranges(self, weights: Weights, raw: np.ndarray) -> list[tuple[float, float]]:
        """(low, high) of every op's float output over the given raw inputs (n, h, w, c): calibration."""
        blocks = self._device(weights)
        found = np.array([[np.inf, -np.inf]] * len(self.part.ops))
        for start in range(0, len(raw), EVAL_CHUNK):
            chunk = raw[start : start + EVAL_CHUNK]
            padded, _, _ = _padded(chunk, np.zeros(len(chunk), np.int64), EVAL_CHUNK)  # copies: same min and max
            seen = np.asarray(self._ranges(blocks, padded))
            found[:, 0] = np.minimum(found[:, 0], seen[:, 0])
            found[:, 1] = np.maximum(found[:, 1], seen[:, 1])
        return [(float(low), float(high)) for low, high in found]


def even_chunk(rows: int, most: int) -> int:
    """Rows per chunk when `rows` are cut into as few equal chunks of at most `most` as can be,
    rounded up to a multiple of 8: validation is scored every epoch, and a fixed chunk wastes
    what its padding computes (96 photos in chunks of 64 computed 128 rows; here, 96)."""
    chunks = -(-rows // most)
    per_chunk = -(-rows // chunks)
    return min(most, -(-per_chunk // 8) * 8)


def _padded(raw: np.ndarray, y: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A batch brought to `size` rows (copies of the first row, masked out), so shapes never change."""
    mask = np.zeros(size, np.float32)
    mask[: len(raw)] = 1.0
    if len(raw) == size:
        return raw, y.astype(np.int32), mask
    fill = size - len(raw)
    pad_rows = np.repeat(raw[:1], fill, axis=0)
    return (
        np.concatenate([raw, pad_rows]),
        np.concatenate([y, np.repeat(y[:1], fill)]).astype(np.int32),
        mask,
    )


def calibrated_ranges(part: Part, ranges: Sequence[tuple[float, float]]) -> dict[int, tuple[float, float]]:
    """The ranges to write: outputs that a fused ReLU6 bounds keep the base's [0, 6] quantization
    (and the average pool after the last block needs its input's), the others take the measured one."""
    return {i: r for i, (op, r) in enumerate(zip(part.ops, ranges)) if not op.relu6}
