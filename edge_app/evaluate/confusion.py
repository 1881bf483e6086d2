"""The confusion matrix as CSV and as text. Only classes present in the truth or the predictions
appear, so a 1000-class model evaluated on 100 classes gives ~100 rows. Its picture is drawn by
edge_app.plots.confusion."""

from __future__ import annotations

import csv
from pathlib import Path

from edge_app.evaluate.metrics import Confusion

NAME_CHARS = 28


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
