"""What teaching keeps on disk, under <state dir>/teach:

    examples/<label>/<sha256>.jpg|.png   the photos, as taken or uploaded (re-training on another
                                         base re-embeds them), each with a thumbnail beside it
                                         (.<sha256>.thumb.jpg, made once when it is added)
    embeddings/<base>/...                their embeddings by base model (edge_app.train's cache)
    model.tflite                         the taught model, with its labels and a note (teach.json)

Every file appears whole or not at all (written to a temporary name, then renamed), so a crash
while saving leaves the previous state; temporary files of a killed process are swept at start.
A deleted class is first renamed out of the way. A taught model that does not read back (a
damaged SD card) is moved aside to model.tflite.damaged-<time>, said in one line, and the base
runs: nothing in the state dir can switch teaching off.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import shutil
import time
import unicodedata
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge_app.atomic import atomic_write_bytes, is_stale_temporary
from edge_app.model.labels import breaks_label_file, embedded_labels
from edge_app.teach.errors import Conflict, Invalid, NotFound, NotStored, TeachError
from edge_app.train import zip_entry

__all__ = ["TeachError", "ExampleStore", "Example", "TaughtModel", "check_label", "read_note", "with_note"]

log = logging.getLogger("edge_app.teach")

LABEL_MAX = 48
MAX_CLASSES = 100  # a head for more is slow to train on a Pi, and a panel of more is unreadable
NOTE_FILE = "teach.json"
PHOTO_SUFFIXES = (".jpg", ".png")
_TRASH = ".trash-"


def check_label(text: str | None) -> str:
    """A class name that is safe as a folder name, as a line of the model's label file and on
    screen: 1 to 48 characters, no slashes, no control characters or line breaks of any kind
    (U+2028 too), not starting with a dot."""
    label = unicodedata.normalize("NFC", (text or "").strip())
    if not label:
        raise Invalid("a class name is needed", "e.g. parcel, or bird at the feeder")
    if len(label) > LABEL_MAX:
        raise Invalid(f"the class name is {len(label)} characters long", f"use at most {LABEL_MAX}")
    if "/" in label or "\\" in label or label.startswith("."):
        raise Invalid(f"the class name {label!r} looks like a path", "use letters, digits, spaces, - and _")
    if breaks_label_file(label):
        raise Invalid("the class name has control characters or line breaks", "use letters, digits, spaces, - and _")
    return label


@dataclass(frozen=True)
class Example:
    label: str
    path: Path

    @property
    def digest(self) -> str:
        return self.path.stem

    @property
    def thumbnail(self) -> Path:
        return self.path.with_name(f".{self.digest}.thumb.jpg")


@dataclass(frozen=True)
class TaughtModel:
    data: bytes  # the whole .tflite, labels and note embedded
    note: dict[str, Any]  # base, base_sha256, classes, examples, val_top1, created

    @property
    def labels(self) -> list[str]:
        return list(self.note["classes"])


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
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError, zipfile.LargeZipFile):
        return None
    return note if isinstance(note, dict) else None


def note_problem(model: bytes) -> str | None:
    """Why `model` is not a taught model teaching can use, or None: its note must be there and
    name, as a list of strings, exactly the labels embedded beside it."""
    note = read_note(model)
    if note is None:
        return f"it has no readable {NOTE_FILE} (truncated or not a taught model)"
    classes = note.get("classes")
    if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes) or len(classes) < 2:
        return f'its {NOTE_FILE} has "classes": {json.dumps(classes)[:40]}, not a list of class names'
    if not isinstance(note.get("base_sha256"), str):
        return f"its {NOTE_FILE} names no base model"
    embedded = embedded_labels(model)
    if embedded is None or [embedded.get(i) for i in range(len(embedded))] != classes:
        return f"its embedded labels do not match the {len(classes)} classes of its {NOTE_FILE}"
    return None


def _photos(folder: Path) -> list[Path]:
    """The examples in a class folder (temporary files and thumbnails are hidden)."""
    return [p for p in folder.iterdir() if p.suffix in PHOTO_SUFFIXES and not p.name.startswith(".")]


class ExampleStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.examples = root / "examples"
        self.model_path = root / "model.tflite"
        self._tidy()

    def _tidy(self) -> None:
        """Finish what a crash interrupted: half-deleted classes and the temporary files of a
        killed writer go (anything else is never touched)."""
        if not self.root.is_dir():
            return
        swept = 0
        for folder, dirs, files in os.walk(self.root):
            here = Path(folder)
            for name in [d for d in dirs if d.startswith(_TRASH)]:
                shutil.rmtree(here / name, ignore_errors=True)
                dirs.remove(name)
            for name in files:
                if is_stale_temporary(here / name):
                    (here / name).unlink(missing_ok=True)
                    swept += 1
        if swept:
            log.info("removed %d temporary file(s) left in %s by an interrupted write", swept, self.root)

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
            try:
                photos = _photos(folder)
                photos.sort(key=lambda p: (p.stat().st_mtime_ns, p.name))
            except OSError:  # deleted while listed
                continue
            if photos:
                found[folder.name] = [Example(folder.name, p) for p in photos]
        return found

    def count(self, label: str) -> int:
        folder = self._folder(label)
        return len(_photos(folder)) if folder.is_dir() else 0

    def add(self, label: str, photo: bytes, suffix: str, thumbnail: bytes | None = None) -> tuple[Example, bool]:
        """Keep `photo` (JPEG or PNG bytes) as an example of `label`, with its `thumbnail` (JPEG)
        beside it; the same photo twice is kept once (then False: nothing was added). A new class
        beyond MAX_CLASSES is refused."""
        if suffix not in PHOTO_SUFFIXES:
            raise ValueError(f"unknown photo type {suffix}")
        folder = self._folder(label)
        path = folder / f"{hashlib.sha256(photo).hexdigest()}{suffix}"
        example = Example(folder.name, path)
        if path.exists():
            return example, False
        if not folder.is_dir() and len(self.classes()) >= MAX_CLASSES:
            raise Invalid(
                f"teaching takes at most {MAX_CLASSES} classes, and there are {MAX_CLASSES}",
                "delete a class first, or train more with edge-app train",
            )
        try:
            folder.mkdir(parents=True, exist_ok=True)
            if thumbnail is not None:
                atomic_write_bytes(example.thumbnail, thumbnail, durable=False)
            atomic_write_bytes(path, photo)
        except FileNotFoundError:  # the class folder went while this was written: a delete won
            example.thumbnail.unlink(missing_ok=True)
            raise Conflict(
                f"the class {folder.name!r} was deleted while this example was added", "add it again"
            ) from None
        except OSError as exc:
            raise NotStored(
                f"cannot keep the example in {folder} ({exc.strerror or exc})",
                "check the state dir's space and permissions",
            ) from None
        return example, True

    def delete_class(self, label: str) -> int:
        """Remove a class and its examples; the number removed. Unknown: NotFound."""
        examples = self.classes().get(check_label(label))
        if not examples:
            raise NotFound(f"there is no class {label!r}", "GET /api/teach lists the classes")
        self._discard(self._folder(label))
        return len(examples)

    def delete_example(self, label: str, digest: str) -> int:
        """Remove one example (and its thumbnail); the number of examples its class has left."""
        example = self.example(label, digest)
        try:
            example.path.unlink()
        except FileNotFoundError:
            raise NotFound("no such example", "GET /api/teach lists them") from None
        example.thumbnail.unlink(missing_ok=True)
        return self.count(label)

    def delete_all(self) -> int:
        """Remove every example, whatever the folders are called (even names no label passes)."""
        count = sum(len(found) for found in self.classes().values())
        if self.examples.exists():
            self._discard(self.examples)
        return count

    def _discard(self, path: Path) -> None:
        """Rename out of the way in one step, then remove: gone even if the removal is cut short."""
        trash = path.with_name(f"{_TRASH}{uuid.uuid4().hex}")
        os.replace(path, trash)
        shutil.rmtree(trash, ignore_errors=True)

    def example(self, label: str, digest: str) -> Example:
        for example in self.classes().get(check_label(label), []):
            if example.digest == digest:
                return example
        raise NotFound("no such example", "GET /api/teach lists them")

    def keep_thumbnail(self, example: Example, thumbnail: bytes) -> None:
        """Store a thumbnail made late (an example from before thumbnails were kept); a state dir
        that does not take it only means it is made again next time."""
        try:
            atomic_write_bytes(example.thumbnail, thumbnail, durable=False)
        except OSError:
            pass

    def photo(self, label: str, digest: str) -> Path:
        return self.example(label, digest).path

    # -- the taught model --------------------------------------------------------------------

    def save_model(self, data: bytes, note: dict[str, Any]) -> TaughtModel:
        """Keep `data` (a taught model, note embedded, checked to read back by the caller)."""
        self.root.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(self.model_path, data)
        return TaughtModel(data, note)

    def load_model(self) -> TaughtModel | None:
        """The taught model, or None when there is none; a damaged one is set aside (then the base runs)."""
        if not self.model_path.exists():
            return None
        try:
            data = self.model_path.read_bytes()
        except OSError as exc:
            self.set_aside(f"it cannot be read ({exc.strerror or exc})")
            return None
        problem = note_problem(data)
        if problem is not None:
            self.set_aside(problem)
            return None
        note = read_note(data)
        assert note is not None
        return TaughtModel(data, note)

    def set_aside(self, why: str) -> Path | None:
        """Move a damaged taught model to model.tflite.damaged-<time> (kept for a look, never read
        again) with one line saying so; None if it could not be moved (then it is removed)."""
        aside = self.model_path.with_name(f"{self.model_path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
        try:
            os.replace(self.model_path, aside)
        except FileNotFoundError:
            return None
        except OSError:
            self._remove_model()
            log.warning("the taught model %s is damaged (%s): removed it; running the base model", self.model_path, why)
            return None
        log.warning(
            "the taught model %s is damaged (%s): moved it aside to %s; running the base model",
            self.model_path,
            why,
            aside.name,
        )
        return aside

    def delete_model(self) -> bool:
        return self._remove_model()

    def _remove_model(self) -> bool:
        """Remove model.tflite whatever it is (a file, or a folder where one should be)."""
        if self.model_path.is_dir() and not self.model_path.is_symlink():
            self._discard(self.model_path)
            return True
        try:
            self.model_path.unlink()
        except FileNotFoundError:
            return False
        return True
