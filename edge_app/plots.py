"""Pictures where people look rather than read: confusion, per-class scores, blocks, comparisons.

matplotlib is imported on first use (with the headless Agg backend, so it works on a Pi with no
screen), keeping `edge-app --help` instant. The orderings and layouts are plain functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from edge_app.errors import EdgeAppError

if TYPE_CHECKING:
    from edge_app.evaluate.metrics import ClassScore, Confusion
    from edge_app.model.architecture import Architecture

_BLOCK_NAMES = {"inverted_residual": "IR", "depthwise_separable": "DS", "conv_1x1": "1x1"}
NAMED_CLASSES = 60  # more classes than this: ticks without names (the CSV has them)
COUNTED_CLASSES = 30  # more than this: cells too small for their counts


def pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise EdgeAppError("pictures need matplotlib", "install it: pip install matplotlib") from None
    return plt


FORMATS = ("png", "svg", "pdf")


def _save(fig: Any, path: Path) -> None:
    """By the file's suffix; PNG for anything else (a temporary name on the way to an atomic rename)."""
    suffix = path.suffix.lstrip(".").lower()
    fig.savefig(path, dpi=110, bbox_inches="tight", format=suffix if suffix in FORMATS else "png")
    pyplot().close(fig)


# --- orderings and fronts: pure ----------------------------------------------------------------


def cluster_order(matrix: np.ndarray) -> np.ndarray:
    """An order of the classes that puts classes confused with each other side by side: the
    Fiedler vector of the graph whose edges are the symmetric confusion shares. Classes
    confused with nothing keep their relative order at the end."""
    counts = np.asarray(matrix, dtype=np.float64)
    totals = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    np.fill_diagonal(share, 0.0)
    affinity = share + share.T
    linked = np.flatnonzero(affinity.sum(axis=1) > 0)
    alone = np.flatnonzero(affinity.sum(axis=1) == 0)
    if len(linked) < 3:
        return np.concatenate([linked, alone]).astype(int)
    sub = affinity[np.ix_(linked, linked)]
    laplacian = np.diag(sub.sum(axis=1)) - sub
    _, vectors = np.linalg.eigh(laplacian)
    fiedler = vectors[:, 1]
    return np.concatenate([linked[np.argsort(fiedler, kind="stable")], alone]).astype(int)


@dataclass(frozen=True)
class Point:
    name: str
    latency_ms: float
    top1: float
    size_mb: float


def pareto_front(points: Sequence[Point]) -> list[Point]:
    """The models no other beats on both latency and top-1, fastest first."""
    front: list[Point] = []
    best = -1.0
    for point in sorted(points, key=lambda p: (p.latency_ms, -p.top1)):
        if point.top1 > best:
            front.append(point)
            best = point.top1
    return front


# --- the pictures -----------------------------------------------------------------------------


def confusion(path: Path, table: Confusion, names: list[str], title: str = "") -> None:
    """Row-normalised (each truth row sums to 100 %), counts written in the cells while they fit,
    a colour legend, and classes ordered so confusions cluster. Empty cells stay white."""
    plt = pyplot()
    order = cluster_order(table.matrix)
    counts = table.matrix[np.ix_(order, order)]
    totals = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
    n = len(order)
    side = float(np.clip(2.5 + 0.32 * n, 5.0, 30.0))
    fig, ax = plt.subplots(figsize=(side + 1.6, side))
    shown = np.ma.masked_where(counts == 0, share)
    cmap = plt.get_cmap("viridis_r").with_extremes(bad="white")
    image = ax.imshow(shown, cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest")
    legend = fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    legend.set_label("share of the true class's photos")
    if n <= COUNTED_CLASSES:
        for (row, col), count in np.ndenumerate(counts):
            if count:
                ax.text(
                    col,
                    row,
                    str(count),
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if share[row, col] > 0.55 else "black",
                )
    labels = [_short(names[c]) for c in table.classes[order]]
    if n <= NAMED_CLASSES:
        ax.set_xticks(range(n), labels, rotation=90, fontsize=8)
        ax.set_yticks(range(n), labels, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true class")
    ax.set_title(title or "confusion matrix", fontsize=10)
    _save(fig, path)


def class_scores(path: Path, scores: Sequence[ClassScore], title: str = "") -> None:
    """Precision, recall and F1 per class as grouped horizontal bars, weakest F1 at the top."""
    plt = pyplot()
    shown = sorted(scores, key=lambda c: (c.f1, c.name))[:NAMED_CLASSES]
    n = len(shown)
    fig, ax = plt.subplots(figsize=(8, max(2.5, 0.32 * n + 1.2)))
    y = np.arange(n)
    for offset, field, colour in ((-0.27, "precision", "#4c72b0"), (0.0, "recall", "#dd8452"), (0.27, "f1", "#55a868")):
        ax.barh(y + offset, [getattr(c, field) for c in shown], height=0.26, label=field, color=colour)
    ax.set_yticks(y, [_short(c.name) for c in shown], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("score")
    ax.legend(loc="lower right", fontsize=8)
    more = f" (the {n} weakest of {len(scores)})" if len(scores) > n else ""
    ax.set_title((title or "per-class precision, recall and F1") + more, fontsize=10)
    _save(fig, path)


def blocks(path: Path, arch: Architecture, title: str) -> None:
    """MACs per block, and measured milliseconds per block when profiled."""
    plt = pyplot()
    timed = all(b.ms is not None for b in arch.blocks)
    rows = 2 if timed else 1
    fig, axes = plt.subplots(
        rows, 1, figsize=(max(8.0, 0.45 * len(arch.blocks)), 3.2 * rows), squeeze=False, sharex=True
    )
    names = [f"{i} {_BLOCK_NAMES.get(b.kind, b.kind)} c{b.c}" for i, b in enumerate(arch.blocks)]
    x = np.arange(len(arch.blocks))
    mac_ax = axes[0][0]
    mac_ax.bar(x - 0.2, [b.macs / 1e6 for b in arch.blocks], width=0.4, label="MACs", color="#4c72b0")
    mac_ax.bar(
        x + 0.2, [b.standard_macs / 1e6 for b in arch.blocks], width=0.4, label="with a standard 3x3", color="#c8c8c8"
    )
    mac_ax.set_ylabel("million MACs")
    mac_ax.legend(fontsize=8)
    mac_ax.set_title(title, fontsize=10)
    if timed:
        time_ax = axes[1][0]
        time_ax.bar(x, [max(0.0, b.ms or 0.0) for b in arch.blocks], color="#dd8452")
        time_ax.set_ylabel("ms per invoke")
    axes[-1][0].set_xticks(x, names, rotation=70, fontsize=7, ha="right")
    _save(fig, path)


def comparison(path: Path, points: Sequence[Point], title: str) -> None:
    """Top-1 against latency, marker area by file size, the Pareto front joined by a line."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 5.5))
    sizes = np.array([p.size_mb for p in points])
    area = 40 + 900 * sizes / max(float(sizes.max()), 1e-9)
    ax.scatter(
        [p.latency_ms for p in points],
        [p.top1 * 100 for p in points],
        s=area,
        alpha=0.55,
        color="#4c72b0",
        edgecolors="black",
        linewidths=0.5,
    )
    for p in points:
        ax.annotate(
            f"{p.name}\n{p.size_mb:.1f} MB",
            (p.latency_ms, p.top1 * 100),
            fontsize=7,
            xytext=(6, 4),
            textcoords="offset points",
        )
    front = pareto_front(points)
    ax.plot(
        [p.latency_ms for p in front],
        [p.top1 * 100 for p in front],
        "--",
        color="#c44e52",
        label="Pareto front: nothing is both faster and more accurate",
    )
    ax.set_xscale("log")
    plain = pyplot().FuncFormatter(lambda value, _: f"{value:g}")
    ax.xaxis.set_major_formatter(plain)
    ax.xaxis.set_minor_formatter(plain)
    ax.tick_params(axis="x", which="minor", labelsize=7)
    ax.margins(x=0.25, y=0.1)
    ax.set_xlabel("invoke latency, median ms (log scale)")
    ax.set_ylabel("top-1 %")
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title(title + " (marker area: file size)", fontsize=10)
    ax.grid(True, alpha=0.3)
    _save(fig, path)


def _short(name: str, limit: int = 24) -> str:
    first = name.split(",")[0].strip() or name
    return first if len(first) <= limit else first[: limit - 1] + "~"
