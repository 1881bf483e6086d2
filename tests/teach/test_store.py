"""What teaching keeps on disk: class names that are safe, examples kept whole, classes removed in
one step, the taught model with its note, and a crash that never leaves a half state."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from edge_app import atomic
from edge_app.model.labels import embedded_labels
from edge_app.teach.errors import Conflict, Invalid, NotFound
from edge_app.teach.store import (
    LABEL_MAX,
    MAX_CLASSES,
    ExampleStore,
    TeachError,
    check_label,
    note_problem,
    read_note,
    with_note,
)
from edge_app.train.surgery import with_labels

JPEG = b"\xff\xd8\xff" + b"a jpeg" * 10
PNG = b"\x89PNG\r\n\x1a\n" + b"a png" * 10


@pytest.mark.parametrize(
    "name", ["parcel", "bird at the feeder", "Bay-2_empty", "Rotkehlchen ä", "猫", "x" * LABEL_MAX]
)
def test_good_class_names_pass(name: str) -> None:
    assert check_label(f"  {name} ") == name


@pytest.mark.parametrize(
    ("name", "words"),
    [
        (None, "is needed"),
        ("", "is needed"),
        ("   ", "is needed"),
        ("x" * (LABEL_MAX + 1), "characters long"),
        ("../etc", "looks like a path"),
        ("a/b", "looks like a path"),
        ("a\\b", "looks like a path"),
        (".hidden", "looks like a path"),
        ("bell\x07", "control characters"),
        ("tab\there", "control characters"),
        ("line\u2028separator", "line breaks"),
        ("paragraph\u2029separator", "line breaks"),
        ("next\x85line", "line breaks"),
        ("file\x1cseparator", "line breaks"),
        ("vertical\x0btab", "line breaks"),
        ("bad\nlabel", "line breaks"),
    ],
)
def test_bad_class_names_are_invalid_with_the_reason(name: str | None, words: str) -> None:
    with pytest.raises(Invalid, match=words):
        check_label(name)


def test_examples_are_kept_once_each_and_listed_by_class(tmp_path: Path) -> None:
    store = ExampleStore(tmp_path / "teach")
    first, added = store.add("tulip", JPEG, ".jpg")
    assert added and store.add("tulip", JPEG, ".jpg") == (first, False)  # the same photo twice is one example
    store.add("tulip", PNG, ".png")
    store.add("daisy", JPEG, ".jpg")
    classes = store.classes()
    assert list(classes) == ["daisy", "tulip"] and len(classes["tulip"]) == 2
    assert first.path.read_bytes() == JPEG and first.path.parent == tmp_path / "teach" / "examples" / "tulip"
    assert store.photo("tulip", first.digest) == first.path
    with pytest.raises(NotFound):
        store.photo("tulip", "0" * 64)


def test_a_deleted_class_goes_in_one_step_and_an_unknown_one_is_404(tmp_path: Path) -> None:
    store = ExampleStore(tmp_path)
    store.add("tulip", JPEG, ".jpg")
    store.add("daisy", JPEG, ".jpg")
    assert store.delete_class("tulip") == 1
    assert list(store.classes()) == ["daisy"] and sorted(os.listdir(tmp_path / "examples")) == ["daisy"]
    with pytest.raises(NotFound):
        store.delete_class("tulip")
    assert list(store.classes()) == ["daisy"]  # nothing else lost


def test_a_delete_cut_short_by_a_crash_is_finished_at_the_next_start(tmp_path: Path) -> None:
    store = ExampleStore(tmp_path)
    store.add("tulip", JPEG, ".jpg")
    os.replace(
        tmp_path / "examples" / "tulip", tmp_path / "examples" / ".trash-123"
    )  # the rename happened, the removal did not
    assert store.classes() == {}
    ExampleStore(tmp_path)
    assert os.listdir(tmp_path / "examples") == []


def test_the_taught_model_keeps_its_labels_and_note_and_a_failed_save_keeps_the_old_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ExampleStore(tmp_path)
    assert store.load_model() is None
    note = {"base": "m", "base_sha256": "ab", "classes": ["tulip", "daisy"]}
    saved = store.save_model(with_note(with_labels(b"TFL3 model bytes", ["tulip", "daisy"]), note), note)
    loaded = store.load_model()
    assert loaded is not None and loaded.data == saved.data and loaded.labels == ["tulip", "daisy"]
    assert embedded_labels(loaded.data) == {0: "tulip", 1: "daisy"}  # the note does not hide the labels

    def crash(path: Path) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic, "_sync", crash)  # the new file is written, then the crash before the rename
    with pytest.raises(OSError):
        store.save_model(with_note(with_labels(b"TFL3 other", ["a", "b"]), {"classes": ["a", "b"]}), {})
    again = store.load_model()
    assert again is not None and again.data == saved.data
    assert sorted(os.listdir(tmp_path)) == ["model.tflite"]  # no temporary file left
    assert store.delete_model() and not store.delete_model()


def test_a_note_travels_with_the_model_bytes() -> None:
    model = with_note(with_labels(b"TFL3", ["x", "y"]), {"classes": ["x", "y"], "val_top1": None})
    assert read_note(model) == {"classes": ["x", "y"], "val_top1": None}
    assert read_note(b"TFL3 without a zip") is None
    assert with_note(b"TFL3", {"a": 1}) == with_note(b"TFL3", {"a": 1})  # same bytes at any time


def _taught(classes: object, labels: tuple[str, ...] = ("tulip", "daisy")) -> bytes:
    return with_note(with_labels(b"TFL3 model bytes", labels), {"base_sha256": "ab", "classes": classes})


@pytest.mark.parametrize(
    ("model", "words"),
    [
        (_taught(5), '"classes": 5'),
        (_taught(["tulip"]), '"classes"'),
        (_taught(["tulip", "rose"]), "do not match"),
        (_taught(["tulip", "daisy"])[:-30], "truncated"),  # the zip's directory cut off
        (b"TFL3 no zip at all", "no readable teach.json"),
    ],
)
def test_a_damaged_taught_model_is_set_aside_with_one_line_naming_it(
    tmp_path: Path, model: bytes, words: str, caplog: pytest.LogCaptureFixture
) -> None:
    assert note_problem(model) is not None and words in str(note_problem(model))
    store = ExampleStore(tmp_path)
    store.model_path.write_bytes(model)
    assert store.load_model() is None
    aside = [name for name in os.listdir(tmp_path) if name.startswith("model.tflite.damaged-")]
    assert len(aside) == 1 and not store.model_path.exists()
    assert (tmp_path / aside[0]).read_bytes() == model  # kept for a look
    lines = [r.getMessage() for r in caplog.records if r.name == "edge_app.teach"]
    assert len(lines) == 1 and str(store.model_path) in lines[0] and aside[0] in lines[0] and words in lines[0]
    assert "running the base model" in lines[0]
    assert store.load_model() is None and len(caplog.records) == 1  # said once: the file is gone


def test_a_sound_taught_model_has_no_problem() -> None:
    assert note_problem(_taught(["tulip", "daisy"])) is None


def test_temporary_files_of_a_killed_writer_are_swept_at_start(tmp_path: Path) -> None:
    import subprocess
    import sys

    store = ExampleStore(tmp_path)
    example, _ = store.add("tulip", JPEG, ".jpg")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)  # a process that has exited: its temporary file is stale
    stale = example.path.with_name(f".{example.digest}.{pid}-140.tmp.jpg")
    stale.write_bytes(b"x" * 2_000_000)
    mine = example.path.with_name(f".other.{os.getpid()}-1.tmp.jpg")  # this process may still finish it
    mine.write_bytes(b"y")
    (tmp_path / "embeddings").mkdir()
    cached = tmp_path / "embeddings" / f".x.{pid}-3.tmp.npy"
    cached.write_bytes(b"z")
    ExampleStore(tmp_path)
    assert not stale.exists() and not cached.exists() and mine.exists() and example.path.exists()


def test_an_add_racing_a_delete_of_its_class_is_a_conflict(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from edge_app.teach import store as store_module

    store = ExampleStore(tmp_path)
    store.add("tulip", JPEG, ".jpg")
    real = store_module.atomic_write_bytes

    def delete_first(path: Path, data: bytes, durable: bool = True) -> None:
        store.delete_class("tulip")  # the delete wins the race, between mkdir and the write
        real(path, data, durable)

    monkeypatch.setattr(store_module, "atomic_write_bytes", delete_first)
    with pytest.raises(Conflict, match="deleted while"):
        store.add("tulip", PNG, ".png")
    assert store.classes() == {}


def test_one_example_is_deleted_with_its_thumbnail(tmp_path: Path) -> None:
    store = ExampleStore(tmp_path)
    first, _ = store.add("tulip", JPEG, ".jpg", b"thumb")
    store.add("tulip", PNG, ".png")
    assert first.thumbnail.read_bytes() == b"thumb" and len(store.classes()["tulip"]) == 2  # not an example
    assert store.delete_example("tulip", first.digest) == 1
    assert not first.path.exists() and not first.thumbnail.exists()
    with pytest.raises(NotFound):
        store.delete_example("tulip", first.digest)


def test_delete_all_removes_folders_no_label_passes(tmp_path: Path) -> None:
    store = ExampleStore(tmp_path)
    store.add("tulip", JPEG, ".jpg")
    (tmp_path / "examples" / "bad\nlabel").mkdir()
    (tmp_path / "examples" / "bad\nlabel" / "a.jpg").write_bytes(JPEG)
    assert store.delete_all() == 2 and not (tmp_path / "examples").exists()


def test_the_class_count_is_capped(tmp_path: Path) -> None:
    store = ExampleStore(tmp_path)
    for i in range(MAX_CLASSES):
        (tmp_path / "examples" / f"c{i}").mkdir(parents=True)
        (tmp_path / "examples" / f"c{i}" / "a.jpg").write_bytes(JPEG)
    with pytest.raises(TeachError, match=f"at most {MAX_CLASSES} classes"):
        store.add("one more", JPEG, ".jpg")
    assert store.add("c0", PNG, ".png")[1]  # an existing class still takes examples
