"""What teaching keeps on disk, under <state dir>/teach:

    examples/<label>/<sha256>.jpg|.png   the photos, as taken or uploaded (re-training on another
                                         base re-embeds them)
    embeddings/<base>/...                their embeddings by base model (edge_app.train's cache)
    model.tflite                         the taught model, with its labels and a note (teach.json)

Every file appears whole or not at all (written to a temporary name, then renamed), so a crash
while saving leaves the previous state. A deleted class is first renamed out of the way.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import unicodedata
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge_app.atomic import atomic_write_bytes
from edge_app.errors import EdgeAppError
from edge_app.train.surgery import zip_entry

LABEL_MAX = 48
NOTE_FILE = "teach.json"
PHOTO_SUFFIXES = (".jpg", ".png")
_TRASH = ".trash-"


class TeachError(EdgeAppError):
    """A request teaching cannot honour; `status` is the HTTP answer (400, 404, 409, 413, 422)."""

    def __init__(self, message: str, hint: str = "", status: int = 400) -> None:
        super().__init__(message, hint)
        self.status = status


def check_label(text: str | None) -> str:
    """A class name that is safe as a folder name and readable on screen: 1 to 48 characters,
    no slashes, no control characters, not starting with a dot."""
    label = unicodedata.normalize("NFC", (text or "").strip())
    if not label:
        raise TeachError("a class name is needed", "e.g. parcel, or bird at the feeder")
    if len(label) > LABEL_MAX:
        raise TeachError(f"the class name is {len(label)} characters long", f"use at most {LABEL_MAX}")
    if "/" in label or "\\" in label or label.startswith("."):
        raise TeachError(f"the class name {label!r} looks like a path", "use letters, digits, spaces, - and _")
    if any(unicodedata.category(c).startswith("C") for c in label):
        raise TeachError("the class name has control characters", "use letters, digits, spaces, - and _")
    return label


@dataclass(frozen=True)
class Example:
    label: str
    path: Path

    @property
    def digest(self) -> str:
        return self.path.stem


@dataclass(frozen=True)
class TaughtModel:
    data: bytes  # the whole .tflite, labels and note embedded
    note: dict[str, Any]  # base, base_sha256, classes, examples, val_top1, created

    @property
    def labels(self) -> list[str]:
        return list(self.note.get("classes", []))


def with_note(model: bytes, note: dict[str, Any]) -> bytes:
    """The model with `note` added to the zip its labels are in (or a new one): it travels with
    the file, so a downloaded model still says what it was taught from."""
    stream = io.BytesIO(model)
    stream.seek(0, io.SEEK_END)
    with zipfile.ZipFile(stream, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zip_entry(NOTE_FILE), json.dumps(note, indent=2, sort_keys=True))
    return stream.getvalue()


def read_note(model: bytes) -> dict[str, Any] | None:
    try:
        with zipfile.ZipFile(io.BytesIO(model)) as archive:
            note = json.loads(archive.read(NOTE_FILE))
    except (zipfile.BadZipFile, KeyError, ValueError):
        return None
    return note if isinstance(note, dict) else None


def _photos(folder: Path) -> list[Path]:
    """The examples in a class folder (temporary files of a write under way are hidden)."""
    return [p for p in folder.iterdir() if p.suffix in PHOTO_SUFFIXES and not p.name.startswith(".")]


class ExampleStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.examples = root / "examples"
        self.model_path = root / "model.tflite"
        self._tidy()

    def _tidy(self) -> None:
        """Finish what a crash interrupted: half-deleted classes and temporary files go."""
        if self.examples.is_dir():
            for leftover in self.examples.iterdir():
                if leftover.name.startswith(_TRASH):
                    shutil.rmtree(leftover, ignore_errors=True)

    def _folder(self, label: str) -> Path:
        return self.examples / check_label(label)

    # -- examples ----------------------------------------------------------------------------

    def classes(self) -> dict[str, list[Example]]:
        """Every class with its examples, oldest first; classes by name."""
        found: dict[str, list[Example]] = {}
        if not self.examples.is_dir():
            return found
        for folder in sorted(self.examples.iterdir(), key=lambda p: p.name.casefold()):
            if not folder.is_dir() or folder.name.startswith("."):
                continue
            photos = _photos(folder)
            photos.sort(key=lambda p: (p.stat().st_mtime_ns, p.name))
            if photos:
                found[folder.name] = [Example(folder.name, p) for p in photos]
        return found

    def count(self, label: str) -> int:
        folder = self._folder(label)
        return len(_photos(folder)) if folder.is_dir() else 0

    def add(self, label: str, photo: bytes, suffix: str) -> tuple[Example, bool]:
        """Keep `photo` (JPEG or PNG bytes) as an example of `label`; the same photo twice is kept
        once (then False: nothing was added)."""
        if suffix not in PHOTO_SUFFIXES:
            raise ValueError(f"unknown photo type {suffix}")
        folder = self._folder(label)
        path = folder / f"{hashlib.sha256(photo).hexdigest()}{suffix}"
        if path.exists():
            return Example(folder.name, path), False
        try:
            folder.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(path, photo)
        except OSError as exc:
            raise TeachError(
                f"cannot keep the example in {folder} ({exc.strerror or exc})",
                "check the state dir's space and permissions",
                507,
            ) from None
        return Example(folder.name, path), True

    def delete_class(self, label: str) -> int:
        """Remove a class and its examples; the number removed. Unknown: TeachError 404."""
        examples = self.classes().get(check_label(label))
        if not examples:
            raise TeachError(f"there is no class {label!r}", "GET /api/teach lists the classes", 404)
        folder = self._folder(label)
        trash = folder.with_name(f"{_TRASH}{uuid.uuid4().hex}")
        os.replace(folder, trash)  # one step: the class is gone even if the removal below is cut short
        shutil.rmtree(trash, ignore_errors=True)
        return len(examples)

    def photo(self, label: str, digest: str) -> Path:
        for example in self.classes().get(check_label(label), []):
            if example.digest == digest:
                return example.path
        raise TeachError("no such example", "GET /api/teach lists them", 404)

    # -- the taught model --------------------------------------------------------------------

    def save_model(self, model: bytes, note: dict[str, Any]) -> TaughtModel:
        data = with_note(model, note)
        self.root.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(self.model_path, data)
        return TaughtModel(data, note)

    def load_model(self) -> TaughtModel | None:
        """The taught model, or None when there is none (or it is unreadable: then the base runs)."""
        try:
            data = self.model_path.read_bytes()
        except OSError:
            return None
        note = read_note(data)
        return TaughtModel(data, note) if note else None

    def delete_model(self) -> bool:
        try:
            self.model_path.unlink()
        except FileNotFoundError:
            return False
        return True
