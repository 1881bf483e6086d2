"""The confusion matrix as a CSV and as a PNG heatmap drawn with OpenCV (no plotting library).

Only classes present in the truth or the predictions appear, so a 1000-class model evaluated
on 100 classes gives a ~100-row picture. Cells are coloured by the share of the truth row, so
one rare mistake is as visible as a common one; empty cells stay white. Names are written
while a row is tall enough to read them; past that the axes carry position ticks that match
the CSV's row and column order.
"""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np

from edge_app.evaluate.metrics import Confusion

MAX_SIDE = 2000  # matrix pixels per side, at most (cells never get smaller than 1 px)
MAX_CELL = 24
MIN_NAMED_CELL = 9  # smaller rows get tick numbers instead of names
NAME_CHARS = 28
FONT = cv2.FONT_HERSHEY_SIMPLEX
INK = (40, 40, 40)
TICK_STEPS = (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000)


def write_csv(path: Path, table: Confusion, names: list[str]) -> None:
    header = [names[c] for c in table.classes]
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["truth \\ predicted", *header])
        for name, row in zip(header, table.matrix):
            writer.writerow([name, *row.tolist()])


def _short(name: str) -> str:
    first = name.split(",")[0].strip() or name
    return first if len(first) <= NAME_CHARS else first[: NAME_CHARS - 1] + "~"


def cell_size(classes: int) -> int:
    return int(np.clip(MAX_SIDE // max(classes, 1), 1, MAX_CELL))


def _colour(matrix: np.ndarray) -> np.ndarray:
    """Row share -> colour; empty cells white, any non-empty cell at least a visible tint."""
    totals = matrix.sum(axis=1, keepdims=True)
    share = np.divide(matrix, totals, out=np.zeros(matrix.shape, dtype=np.float64), where=totals > 0)
    level = np.where(matrix > 0, 0.25 + 0.75 * share, 0.0)
    grey = (255 - level * 255).astype(np.uint8)
    coloured = cv2.applyColorMap(grey, cv2.COLORMAP_INFERNO)
    coloured[matrix == 0] = 255
    return coloured


def _text_scale(cell: int) -> float:
    return min(0.5, max(0.3, cell / 30))


def _axis_strip(names: list[str], cell: int, length: int) -> np.ndarray:
    """Row captions: a name per row, or a tick number every few rows when rows are thin."""
    count = len(names)
    if cell >= MIN_NAMED_CELL:
        scale = _text_scale(cell)
        width = max((cv2.getTextSize(n, FONT, scale, 1)[0][0] for n in names), default=0) + 8
        strip = np.full((length, width, 3), 255, np.uint8)
        for i, name in enumerate(names):
            (_, h), _ = cv2.getTextSize(name, FONT, scale, 1)
            cv2.putText(strip, name, (4, i * cell + (cell + h) // 2), FONT, scale, INK, 1, cv2.LINE_AA)
        return strip
    step = next((s for s in TICK_STEPS if s * cell >= 40), int(np.ceil(40 / cell)))
    strip = np.full((length, 60, 3), 255, np.uint8)
    for i in range(0, count, step):
        y = i * cell + cell // 2
        cv2.line(strip, (0, y), (5, y), INK, 1)
        cv2.line(strip, (54, y), (59, y), INK, 1)
        cv2.putText(strip, str(i), (10, min(max(y + 5, 10), length - 2)), FONT, 0.4, INK, 1, cv2.LINE_AA)
    return strip


def grid(table: Confusion) -> np.ndarray:
    """The cells alone: `cell_size` pixels per class, with faint lines when cells are big enough."""
    count = len(table.classes)
    if not count:
        return np.full((1, 1, 3), 255, np.uint8)
    cell = cell_size(count)
    side = count * cell
    image = cv2.resize(_colour(table.matrix), (side, side), interpolation=cv2.INTER_NEAREST)
    if cell >= 4:
        image[cell - 1 :: cell, :] = np.minimum(image[cell - 1 :: cell, :], 235)
        image[:, cell - 1 :: cell] = np.minimum(image[:, cell - 1 :: cell], 235)
    if cell >= 18:
        for (r, c), value in np.ndenumerate(table.matrix):
            if value:
                ink = (255, 255, 255) if r == c else INK
                cv2.putText(
                    image, str(value), (c * cell + 3, r * cell + cell // 2 + 4), FONT, 0.33, ink, 1, cv2.LINE_AA
                )
    return image


def render(table: Confusion, names: list[str], title: str = "") -> np.ndarray:
    """BGR heatmap: rows are the truth, columns the prediction, both in the CSV's order."""
    count = len(table.classes)
    cell = cell_size(count)
    cells = grid(table)
    labels = [_short(names[c]) for c in table.classes]
    rows = _axis_strip(labels, cell, cells.shape[0])
    cols = cv2.rotate(_axis_strip(labels, cell, cells.shape[1]), cv2.ROTATE_90_COUNTERCLOCKWISE)
    header_h = 54
    height = header_h + cols.shape[0] + cells.shape[0] + 10
    width = max(rows.shape[1] + cells.shape[1] + 10, 640)
    canvas = np.full((height, width, 3), 255, np.uint8)
    top, left = header_h + cols.shape[0], rows.shape[1]
    canvas[top : top + cells.shape[0], left : left + cells.shape[1]] = cells
    canvas[top : top + rows.shape[0], :left] = rows
    canvas[header_h : header_h + cols.shape[0], left : left + cols.shape[1]] = cols
    cv2.putText(canvas, title[:90], (8, 22), FONT, 0.55, INK, 1, cv2.LINE_AA)
    legend = f"{count} classes; rows: truth, columns: predicted; colour: share of the row (white: none)"
    cv2.putText(canvas, legend[:110], (8, 44), FONT, 0.42, INK, 1, cv2.LINE_AA)
    return canvas


def write_png(path: Path, table: Confusion, names: list[str], title: str = "") -> None:
    ok, encoded = cv2.imencode(".png", render(table, names, title))
    if not ok:  # pragma: no cover - PNG encoding of a uint8 image does not fail
        raise RuntimeError("PNG encoding failed")
    encoded.tofile(str(path))


def format_text(table: Confusion, names: list[str], max_classes: int = 30) -> str:
    """The matrix as aligned text (rows: truth, columns: predicted, numbered as the rows), for a
    report with few classes; past `max_classes` a line saying so instead (the CSV has them all)."""
    count = len(table.classes)
    if count > max_classes:
        return f"({count} classes: too many to print; see confusion.csv)"
    width = max(3, len(str(int(table.matrix.max(initial=0)))))
    header = " " * 6 + " ".join(f"{i:>{width}}" for i in range(count))
    rows = [
        f"{i:>4}  " + " ".join(f"{v:>{width}}" for v in row) + f"  {_short(names[c])}"
        for i, (c, row) in enumerate(zip(table.classes, table.matrix))
    ]
    return "\n".join([header, *rows])
