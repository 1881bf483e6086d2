"""Label files and the label file embedded in a .tflite (which is also a zip archive)."""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from pathlib import Path

from edge_app.errors import EdgeAppError

_ID_LINE = re.compile(r"^\s*(\d+)[\s:,]\s*(.*?)\s*$")


def breaks_label_file(name: str) -> bool:
    """Whether `name` cannot be one line of a label file: it holds a control character or a line
    or paragraph separator (U+2028, U+2029, which str.splitlines splits at), so the labels would
    not read back as written."""
    return len(name.splitlines()) > 1 or any(
        unicodedata.category(c).startswith("C") or unicodedata.category(c) in ("Zl", "Zp") for c in name
    )


def parse_labels(text: str) -> dict[int, str]:
    """Accept "one label per line" and "id label" files; ids only when every line has one."""
    lines = [line.rstrip("\r") for line in text.splitlines()]
    while lines and not lines[-1].strip():
        lines.pop()
    matches = [_ID_LINE.match(line) for line in lines if line.strip()]
    if matches and all(matches):
        ids = [int(m.group(1)) for m in matches if m]
        if len(set(ids)) == len(ids):
            return {int(m.group(1)): m.group(2) for m in matches if m}
    return {i: line.strip() for i, line in enumerate(lines)}


def read_label_file(path: Path) -> dict[int, str]:
    try:
        return parse_labels(path.read_text(encoding="utf-8", errors="replace"))
    except OSError as exc:
        raise EdgeAppError(f"cannot read labels file {path} ({exc.strerror})", "check the --labels path") from None


def embedded_labels(model: Path | bytes) -> dict[int, str] | None:
    """The first .txt inside the model's zip part, as written by TFLite's metadata writer
    (`model`: the file, or its bytes)."""
    try:
        with zipfile.ZipFile(io.BytesIO(model) if isinstance(model, bytes) else model) as archive:
            names = [n for n in archive.namelist() if n.lower().endswith(".txt")]
            if not names:
                return None
            return parse_labels(archive.read(names[0]).decode("utf-8", errors="replace"))
    except (zipfile.BadZipFile, OSError, KeyError):
        return None


def fit_labels(labels: dict[int, str] | None, outputs: int, source: str = "labels") -> list[str]:
    """One label per model output.

    A 1001-output ImageNet model has a background class at index 0; a 1000-line label file
    then lacks it, so it is shifted by one (and a 1000-output model given the 1001-line file
    loses the background line). Without labels, outputs are named by index.
    """
    if not labels:
        return [str(i) for i in range(outputs)]
    count = max(labels) + 1
    if count == outputs + 1 and labels.get(0) == "background":  # a 1000-output model with the 1001-line file
        labels = {i - 1: name for i, name in labels.items() if i > 0}
        count = outputs
    if count == outputs - 1 and 0 in labels:
        labels = {i + 1: name for i, name in labels.items()}
        labels[0] = "background"
        count = outputs
    if count != outputs:
        raise EdgeAppError(
            f"{source} has {count} labels but the model has {outputs} outputs",
            "use the label file that belongs to this model (or omit --labels to use its embedded labels)",
        )
    return [labels.get(i, str(i)) for i in range(outputs)]
