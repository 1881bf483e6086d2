"""Labelled photos: a tree of class folders or a CSV manifest.

Reading a dataset is split in two: `scan` lists files and the label each is given (no model
needed), and `assign` maps those labels onto one model's outputs. `compare` scans once and
assigns per model. Files that cannot count are counted instead, never fatal.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from edge_app.errors import EdgeAppError
from edge_app.evaluate.labelmatch import LabelMatcher
from edge_app.images import is_image_name, walk

LabelKind = Literal["auto", "text", "index"]  # auto: label text, else a bare number is a class index
PATH_COLUMNS = ("file", "path", "filename", "image", "filepath", "image_path")
NO_FOLDER = "(no class folder)"


@dataclass(frozen=True)
class Entry:
    path: Path
    label: str
    kind: LabelKind


@dataclass(frozen=True)
class Listing:
    """What DATA holds, before any model is involved."""

    data: Path
    form: str  # "class folders" | "CSV manifest"
    entries: list[Entry]
    non_image: int = 0


@dataclass(frozen=True)
class Sample:
    path: Path
    truth: int  # canonical model output index (see labelmatch)


@dataclass(frozen=True)
class Dataset:
    listing: Listing
    samples: list[Sample]
    unknown: Counter[str] = field(default_factory=Counter)  # label as written -> images with it

    @property
    def unknown_count(self) -> int:
        return sum(self.unknown.values())


def scan(data: Path) -> Listing:
    if data.is_dir():
        return scan_folders(data)
    if data.is_file():
        if data.suffix.lower() != ".csv":
            raise EdgeAppError(
                f"{data} is neither a folder nor a .csv manifest",
                "give a folder of class folders or a CSV with file and label columns",
            )
        return scan_csv(data)
    raise EdgeAppError(f"dataset not found: {data}", "give a folder of class folders or a CSV manifest")


def scan_folders(data: Path) -> Listing:
    """DATA/<class>/.../<image>: the first folder below DATA names the class. Hidden files and
    folders (.git, .DS_Store) are not data and are passed over."""
    entries: list[Entry] = []
    non_image = 0
    for path in walk(data):
        parts = path.relative_to(data).parts
        if not is_image_name(path):
            non_image += 1
        else:
            entries.append(Entry(path, parts[0] if len(parts) > 1 else NO_FOLDER, "auto"))
    if entries and all(entry.label == NO_FOLDER for entry in entries):
        manifests = sorted(data.glob("*.csv"))
        hint = (
            f"pass the manifest instead: {manifests[0]}"
            if manifests
            else "put each class's images in a folder named after its label (or class index)"
        )
        raise EdgeAppError(f"{data} has images but no class folders", hint)
    return Listing(data, "class folders", entries, non_image)


def _column(fields: list[str], candidates: tuple[str, ...]) -> str | None:
    lowered = {name.strip().lower(): name for name in fields}
    return next((lowered[c] for c in candidates if c in lowered), None)


def scan_csv(manifest: Path) -> Listing:
    """Paths are relative to the manifest's folder. A `label` column is label text; without
    one, `class_index` is a class index (ImageNet's 0..999 when the model has 1001 outputs)."""
    try:
        with manifest.open(encoding="utf-8-sig", newline="") as f:
            rows = list(csv.DictReader(f))
            fields = list(rows[0].keys()) if rows else []
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise EdgeAppError(f"cannot read manifest {manifest} ({exc})", "give a UTF-8 CSV with a header row") from None
    path_column = _column(fields, PATH_COLUMNS)
    label_column = _column(fields, ("label",))
    index_column = _column(fields, ("class_index",))
    if not rows or path_column is None or (label_column is None and index_column is None):
        raise EdgeAppError(
            f"manifest {manifest} needs a file column and a label or class_index column (found: "
            f"{', '.join(fields) or 'nothing'})",
            "write a header like: file,label",
        )
    kind: LabelKind = "text" if label_column else "index"
    column = label_column or index_column
    base = manifest.parent
    entries: list[Entry] = []
    non_image = 0
    for row in rows:
        path = base / (row.get(path_column) or "").strip()
        if not is_image_name(path):
            non_image += 1
            continue
        entries.append(Entry(path, (row.get(column) or "").strip(), kind))
    return Listing(manifest, "CSV manifest", entries, non_image)


def require_images(listing: Listing) -> Listing:
    if not listing.entries:
        raise EdgeAppError(
            f"no images found in {listing.data}",
            "use JPEG, PNG, BMP or WebP files in class folders, or a CSV manifest listing them",
        )
    return listing


def assign(listing: Listing, matcher: LabelMatcher) -> Dataset:
    samples: list[Sample] = []
    unknown: Counter[str] = Counter()
    for entry in listing.entries:
        if entry.kind == "index":
            truth = matcher.by_index(entry.label)
        elif entry.kind == "text":
            truth = matcher.by_text(entry.label)
        else:
            truth = matcher.resolve(entry.label)
        if truth is None:
            unknown[entry.label] += 1
        else:
            samples.append(Sample(entry.path, truth))
    return Dataset(listing, samples, unknown)
