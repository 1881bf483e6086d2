"""What teaching keeps on disk: class names that are safe, examples kept whole, classes removed in
one step, the taught model with its note, and a crash that never leaves a half state."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from edge_app import atomic
from edge_app.model.labels import embedded_labels
from edge_app.teach.store import LABEL_MAX, ExampleStore, TeachError, check_label, read_note, with_note
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
    ],
)
def test_bad_class_names_are_400_with_the_reason(name: str | None, words: str) -> None:
    with pytest.raises(TeachError, match=words) as caught:
        check_label(name)
    assert caught.value.status == 400


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
    with pytest.raises(TeachError) as missing:
        store.photo("tulip", "0" * 64)
    assert missing.value.status == 404


def test_a_deleted_class_goes_in_one_step_and_an_unknown_one_is_404(tmp_path: Path) -> None:
    store = ExampleStore(tmp_path)
    store.add("tulip", JPEG, ".jpg")
    store.add("daisy", JPEG, ".jpg")
    assert store.delete_class("tulip") == 1
    assert list(store.classes()) == ["daisy"] and sorted(os.listdir(tmp_path / "examples")) == ["daisy"]
    with pytest.raises(TeachError) as unknown:
        store.delete_class("tulip")
    assert unknown.value.status == 404
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
    model = with_labels(b"TFL3 model bytes", ["tulip", "daisy"])
    saved = store.save_model(model, {"base": "m", "base_sha256": "ab", "classes": ["tulip", "daisy"]})
    loaded = store.load_model()
    assert loaded is not None and loaded.data == saved.data and loaded.labels == ["tulip", "daisy"]
    assert embedded_labels(loaded.data) == {0: "tulip", 1: "daisy"}  # the note does not hide the labels

    def crash(path: Path) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic, "_sync", crash)  # the new file is written, then the crash before the rename
    with pytest.raises(OSError):
        store.save_model(with_labels(b"TFL3 other", ["a", "b"]), {"classes": ["a", "b"]})
    again = store.load_model()
    assert again is not None and again.data == saved.data
    assert sorted(os.listdir(tmp_path)) == ["model.tflite"]  # no temporary file left
    assert store.delete_model() and not store.delete_model()


def test_a_note_travels_with_the_model_bytes() -> None:
    model = with_note(with_labels(b"TFL3", ["x", "y"]), {"classes": ["x", "y"], "val_top1": None})
    assert read_note(model) == {"classes": ["x", "y"], "val_top1": None}
    assert read_note(b"TFL3 without a zip") is None
    assert with_note(b"TFL3", {"a": 1}) == with_note(b"TFL3", {"a": 1})  # same bytes at any time
