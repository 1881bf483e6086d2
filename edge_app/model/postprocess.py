"""Model output -> ranked labels. Pure functions, no I/O."""

from __future__ import annotations

import numpy as np

from edge_app.frames import Label


def dequantize(raw: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """Scores as float32. Integers are widened before subtracting the zero point, so uint8
    values below it do not wrap around."""
    flat = raw.reshape(-1)
    if not np.issubdtype(flat.dtype, np.integer) or scale == 0:
        return flat.astype(np.float32, copy=False)
    return (flat.astype(np.int32) - zero_point).astype(np.float32) * np.float32(scale)


def top_k(scores: np.ndarray, labels: list[str], k: int = 3, threshold: float = 0.0) -> tuple[Label, ...]:
    """The k best scores at or above the threshold, best first; ties keep the lower index."""
    ranked = np.argsort(-scores, kind="stable")[: max(0, k)].tolist()
    return tuple(Label(i, labels[i], float(scores[i])) for i in ranked if scores[i] >= threshold)


def output_doubt(shape: tuple[int, ...], dtype: np.dtype, scale: float, zero_point: int, labelled: bool) -> str | None:
    """Why an output does not look like class scores (None when it does). A classifier's quantized
    output spans probabilities, 0 to 1; an embedding extractor's spans its activations (0 to 6 for
    ReLU6) and usually keeps pooled [1, 1, 1, N] axes. Float outputs are judged by shape alone."""
    dims = [int(d) for d in shape]
    pooled = len(dims) > 2
    if np.issubdtype(dtype, np.integer) and scale > 0:
        info = np.iinfo(dtype)
        low, high = (info.min - zero_point) * scale, (info.max - zero_point) * scale
        if abs(low) < 0.01 and abs(high - 1.0) < 0.05 and not pooled:
            return None
        values = f"values {low:g} to {high:.3g}, not probabilities"
    elif not pooled:
        return None
    else:
        values = "float values"
    kind = (
        "looks like an embedding extractor, not a classifier" if not labelled else "does not look like a classifier's"
    )
    return f"output {dims} ({values}{'' if labelled else ', no labels'}) {kind}: its scores are raw numbers"


def background(labels: list[str]) -> list[int]:
    """Outputs that are no class of their own: a label "background", and index 0 of a
    1001-output ImageNet model, whatever it is called."""
    found = [i for i, label in enumerate(labels) if label.strip().lower() == "background"]
    return sorted({*found, 0}) if len(labels) == 1001 else found


def shown(scores: np.ndarray, labels: list[str], k: int = 3, threshold: float = 0.0) -> tuple[Label, ...]:
    """top_k for people: without the background class and labels that score nothing."""
    masked = scores.astype(np.float32, copy=True)
    masked[background(labels)] = -np.inf
    return tuple(label for label in top_k(masked, labels, k, threshold) if label.score > 0)
