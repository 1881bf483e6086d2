"""A softmax classifier head on frozen embeddings: multinomial logistic regression in numpy.

Features are standardised for the optimiser, and the standardisation (a linear map) is folded
into the final weights and bias, so the head is one affine map of the raw embedding: exactly
what a 1x1 convolution computes. (A per-sample L2 normalisation would not fold, so none is used.)

The loss is the mean cross-entropy plus l2/2 * |W|^2 on the standardised weights (the bias is
not penalised), minimised by full-batch L-BFGS: convex, deterministic, and a few hundred cheap
iterations for up to thousands of samples x 1280 values x dozens of classes.
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import numpy as np

Objective = Callable[[np.ndarray], tuple[float, np.ndarray]]


@dataclass(frozen=True)
class Head:
    """logits = x @ weights.T + bias, for x the dequantized pooled embedding."""

    weights: np.ndarray  # (classes, dim) float32
    bias: np.ndarray  # (classes,) float32
    logit_range: tuple[float, float]  # min and max logit over the training samples, for output quantization

    def logits(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x, np.float32) @ self.weights.T + self.bias

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.argmax(self.logits(x), axis=1)


@dataclass(frozen=True)
class HeadOptions:
    l2: float = 1e-3  # on the mean loss, standardised features
    max_iter: int = 500
    tol: float = 1e-5  # stop when no gradient component exceeds this


@dataclass(frozen=True)
class Standardizer:
    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def of(cls, x: np.ndarray) -> Standardizer:
        x = np.asarray(x, np.float64)
        std = x.std(axis=0)
        return cls(x.mean(axis=0), np.where(std > 1e-6, std, 1.0))

    def apply(self, x: np.ndarray) -> np.ndarray:
        return (np.asarray(x, np.float64) - self.mean) / self.scale

    def fold(self, weights: np.ndarray, bias: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Weights and bias on standardised values -> the same map on raw values."""
        raw = weights / self.scale
        return raw, bias - raw @ self.mean

    def unfold(self, weights: np.ndarray, bias: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return weights * self.scale, bias + weights @ self.mean


def softmax_loss(x: np.ndarray, y: np.ndarray, classes: int, l2: float, dtype: type = np.float32) -> Objective:
    """Mean cross-entropy + l2/2 |W|^2 and its gradient, over theta = [W (classes x dim), b].

    The two big products run in `dtype` (float32 halves their cost, and its rounding is far below
    the optimiser's tolerance); everything else is float64."""
    n, dim = x.shape
    data: np.ndarray = np.ascontiguousarray(x, dtype)
    onehot = np.zeros((n, classes))
    onehot[np.arange(n), y] = 1.0

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w = theta[: classes * dim].reshape(classes, dim)
        b = theta[classes * dim :]
        z = (data @ w.T.astype(dtype)).astype(np.float64) + b
        z -= z.max(axis=1, keepdims=True)
        lse = np.log(np.exp(z).sum(axis=1, keepdims=True))
        loss = float(np.mean(lse[:, 0] - z[np.arange(n), y])) + 0.5 * l2 * float(np.sum(w * w))
        residual = (np.exp(z - lse) - onehot) / n
        grad_w = (residual.T.astype(dtype) @ data).astype(np.float64) + l2 * w
        return loss, np.concatenate([grad_w.ravel(), residual.sum(axis=0)])

    return objective


def lbfgs(
    objective: Objective, start: np.ndarray, max_iter: int = 500, tol: float = 1e-5, memory: int = 10
) -> np.ndarray:
    """Limited-memory BFGS with a backtracking (Armijo) line search."""
    x = start.astype(np.float64, copy=True)
    f, g = objective(x)
    steps: deque[tuple[np.ndarray, np.ndarray, float]] = deque(maxlen=memory)
    for _ in range(max_iter):
        if np.max(np.abs(g)) <= tol:
            break
        direction = -_two_loop(g, steps)
        slope = float(g @ direction)
        if slope >= 0:  # not a descent direction: forget the curvature pairs
            steps.clear()
            direction, slope = -g, -float(g @ g)
        t = 1.0 if steps else min(1.0, 1.0 / max(np.sum(np.abs(g)), 1e-12))
        while True:
            x_new = x + t * direction
            f_new, g_new = objective(x_new)
            if f_new <= f + 1e-4 * t * slope or t < 1e-12:
                break
            t *= 0.5
        s, y = x_new - x, g_new - g
        sy = float(s @ y)
        if sy > 1e-12 * float(y @ y):
            steps.append((s, y, 1.0 / sy))
        done = f - f_new <= 1e-10 * max(1.0, abs(f))
        x, f, g = x_new, f_new, g_new
        if done:
            break
    return x


def _two_loop(g: np.ndarray, steps: deque[tuple[np.ndarray, np.ndarray, float]]) -> np.ndarray:
    q = g.copy()
    alphas = []
    for s, y, rho in reversed(steps):
        a = rho * float(s @ q)
        alphas.append(a)
        q -= a * y
    if steps:
        s, y, _ = steps[-1]
        q *= float(s @ y) / float(y @ y)
    for (s, y, rho), a in zip(steps, reversed(alphas)):
        b = rho * float(y @ q)
        q += (a - b) * s
    return q


F = TypeVar("F", bound=Callable[..., Any])


def one_blas_thread(function: F) -> F:
    """Run `function` with NumPy's BLAS on one thread. The head's matrices are small: a second
    BLAS thread saves little on a quiet machine, and where the cores are busy (the live pipeline
    while teaching, or other work) the two threads fight over one core and a search takes 2 to 5
    times longer (measured here: 1.8 s on one thread, 4.3 to 10.6 s on two, one core loaded)."""

    @functools.wraps(function)
    def limited(*args: Any, **kwargs: Any) -> Any:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1, user_api="blas"):
            return function(*args, **kwargs)

    return cast(F, limited)


@one_blas_thread
def fit_head(
    x: np.ndarray, y: np.ndarray, classes: int, options: HeadOptions = HeadOptions(), init: Head | None = None
) -> Head:
    """Train a softmax head on embeddings x (n, dim) with labels y in 0..classes-1.

    `init` warm-starts the optimiser (e.g. from the previous strength of a search)."""
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.int64)
    standard = Standardizer.of(x)
    xs = standard.apply(x)
    dim = x.shape[1]
    if init is not None:
        w0, b0 = standard.unfold(init.weights.astype(np.float64), init.bias.astype(np.float64))
        start = np.concatenate([w0.ravel(), b0])
    else:
        start = np.zeros(classes * (dim + 1))
    theta = lbfgs(softmax_loss(xs, y, classes, options.l2), start, options.max_iter, options.tol)
    weights, bias = standard.fold(theta[: classes * dim].reshape(classes, dim), theta[classes * dim :])
    logits = x @ weights.T + bias
    return Head(weights.astype(np.float32), bias.astype(np.float32), (float(logits.min()), float(logits.max())))


def log_loss(logits: np.ndarray, y: np.ndarray) -> float:
    """Mean cross-entropy of logits (n, classes) against labels y."""
    z = np.asarray(logits, np.float64)
    z = z - z.max(axis=1, keepdims=True)
    lse = np.log(np.exp(z).sum(axis=1))
    return float(np.mean(lse - z[np.arange(len(y)), y]))
