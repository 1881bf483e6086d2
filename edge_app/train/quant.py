"""Integer quantization of trained weights, biases and activations, the way TFLite kernels want it.

Pure numpy. Two schemes, the two MobileNetV2 builds in the wild:

- uint8, asymmetric, one scale and zero point per tensor (TF1 quantization-aware training);
- int8, symmetric (zero point 0), one scale per output channel (TF2 post-training quantization).

A bias is int32 at scale input_scale x weight_scale with zero point 0, so the kernel can add it
to the integer accumulator directly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

INT32 = np.iinfo(np.int32)


@dataclass(frozen=True)
class Quant:
    """Quantization parameters of one tensor: real = scale * (q - zero_point), per channel along `dim`."""

    scale: np.ndarray  # float32, (1,) per tensor or (channels,)
    zero_point: np.ndarray  # int64, same length
    dim: int = 0

    @classmethod
    def per_tensor(cls, scale: float, zero_point: int) -> Quant:
        return cls(np.array([scale], np.float32), np.array([zero_point], np.int64))

    @property
    def per_channel(self) -> bool:
        return len(self.scale) > 1

    def _shaped(self, values: np.ndarray, ndim: int) -> np.ndarray:
        if not self.per_channel:
            return values.reshape(())
        shape = [1] * ndim
        shape[self.dim] = -1
        return values.reshape(shape)

    def dequantize(self, q: np.ndarray) -> np.ndarray:
        q = np.asarray(q)
        zero = self._shaped(self.zero_point, q.ndim)
        scale = self._shaped(self.scale.astype(np.float32), q.ndim)
        return ((q.astype(np.int64) - zero).astype(np.float32) * scale).astype(np.float32)

    def quantize(self, real: np.ndarray, dtype: np.dtype) -> np.ndarray:
        real = np.asarray(real, np.float64)
        scale = self._shaped(self.scale.astype(np.float64), real.ndim)
        zero = self._shaped(self.zero_point, real.ndim)
        info = np.iinfo(dtype)
        return np.clip(np.round(real / scale) + zero, info.min, info.max).astype(dtype)


@dataclass(frozen=True)
class Scheme:
    """How a model quantizes its convolution weights."""

    dtype: np.dtype  # uint8 or int8
    per_channel: bool

    @property
    def name(self) -> str:
        return f"{np.dtype(self.dtype).name} per-{'channel' if self.per_channel else 'tensor'}"


def _safe(scale: np.ndarray) -> np.ndarray:
    """An all-zero channel still needs a positive scale."""
    return np.where(scale > 0, scale, 1e-8).astype(np.float32)


def quantize_weights(weights: np.ndarray, scheme: Scheme) -> tuple[np.ndarray, Quant]:
    """(out_channels, ...) float weights -> integers of the scheme's dtype and their Quant."""
    weights = np.asarray(weights, np.float32)
    dtype = np.dtype(scheme.dtype)
    if dtype == np.int8:  # TFLite's int8 kernels require symmetric weights (zero point 0)
        flat = np.abs(weights.reshape(len(weights), -1))
        peak = flat.max(axis=1) if scheme.per_channel else np.array([flat.max()])
        quant = Quant(_safe(peak / 127.0), np.zeros(len(peak), np.int64))
        return np.clip(quant.quantize(weights, dtype), -127, 127).astype(dtype), quant
    if scheme.per_channel:
        raise ValueError("uint8 weights are quantized per tensor")
    quant = activation_quant(float(weights.min()), float(weights.max()), dtype)
    return quant.quantize(weights, dtype), quant


def quantize_bias(bias: np.ndarray, input_scale: float, weight_quant: Quant) -> tuple[np.ndarray, Quant]:
    """int32 bias at input_scale x weight_scale (per channel when the weights are)."""
    scale = (np.float32(input_scale) * weight_quant.scale.astype(np.float32)).astype(np.float32)
    quant = Quant(_safe(scale), np.zeros(len(scale), np.int64))
    real = np.asarray(bias, np.float64) / quant.scale.astype(np.float64)
    return np.clip(np.round(real), INT32.min, INT32.max).astype(np.int32), quant


def activation_quant(low: float, high: float, dtype: np.dtype) -> Quant:
    """Asymmetric per-tensor parameters covering [low, high], which always includes 0 (so that
    zero is exact, as TFLite requires)."""
    low, high = min(low, 0.0), max(high, 0.0)
    info = np.iinfo(dtype)
    span = high - low
    scale = span / (info.max - info.min) if span > 0 else 1.0
    zero_point = int(np.clip(round(info.min - low / scale), info.min, info.max))
    return Quant.per_tensor(scale, zero_point)
