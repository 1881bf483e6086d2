"""Frame -> model input tensor. Pure functions, no I/O.

The default matches how MobileNet was evaluated at training time: a central crop to 87.5 %
of each side, then a bilinear resize. The crop is a view, so the only full-size work is one
cv2.resize; the channel swap and quantization happen on the small image.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from edge_app.frames import ChannelOrder
from edge_app.geometry import resize


@dataclass(frozen=True)
class InputSpec:
    """What the model's input tensor wants, read from the tensor itself."""

    height: int
    width: int
    dtype: np.dtype
    scale: float = 0.0
    zero_point: int = 0
    mean: float = 127.5  # the real-valued input the network was trained on: (pixel - mean) / std
    std: float = 127.5


def to_rgb(image: np.ndarray, order: ChannelOrder) -> np.ndarray:
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2RGB if order == "bgr" else cv2.COLOR_RGBA2RGB)
    return image[..., ::-1] if order == "bgr" else image


def quantizer(spec: InputSpec) -> np.ndarray | None:
    """A 256-entry lookup table from RGB byte to the input tensor's value, or None for identity.

    Integer-quantized models usually fold the normalization into their input quantization, so
    raw bytes are already right: then we pass them through untouched. Otherwise each byte is
    normalized with (mean, std) and quantized with the tensor's own scale and zero point.
    """
    pixels = np.arange(256, dtype=np.float64)
    real = (pixels - spec.mean) / spec.std
    if spec.dtype == np.float32:
        return real.astype(np.float32)
    info = np.iinfo(spec.dtype)
    if spec.scale == 0:
        mapped = pixels + (info.min if info.min < 0 else 0)
    else:
        mapped = np.round(real / spec.scale + spec.zero_point)
    mapped = np.clip(mapped, info.min, info.max)
    identity = pixels if spec.dtype == np.uint8 else pixels - 128
    if np.all(np.abs(mapped - identity) <= 1):
        return None if spec.dtype == np.uint8 else identity.astype(spec.dtype)
    return mapped.astype(spec.dtype)


def to_tensor(
    image: np.ndarray,
    spec: InputSpec,
    order: ChannelOrder = "bgr",
    mode: str = "crop",
    lut: np.ndarray | None = None,
) -> np.ndarray:
    """HxWx3 frame in `order` -> [1, h, w, 3] tensor of the model's dtype, always RGB."""
    small = to_rgb(resize(image, spec.width, spec.height, mode), order)
    tensor = np.take(lut, small) if lut is not None else np.ascontiguousarray(small)
    return tensor[np.newaxis]
