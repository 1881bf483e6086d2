"""Class-folder trees and CSV manifests: what is listed, what is counted instead, what is an error."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_app.errors import EdgeAppError
from edge_app.evaluate.dataset import NO_FOLDER, assign, require_images, scan
from edge_app.evaluate.labelmatch import LabelMatcher

MATCHER = LabelMatcher(["background", "cat", "dog, doggy", "hot dog"])


def _touch(path: Path, data: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_folder_tree_labels_each_image_by_its_top_folder(tmp_path: Path) -> None:
    _touch(tmp_path / "cat" / "a.jpg")
    _touch(tmp_path / "cat" / "2024" / "b.PNG")
    _touch(tmp_path / "dog" / "c.jpeg")
    _touch(tmp_path / "dog" / "notes.txt")
    _touch(tmp_path / "dog" / ".DS_Store")
    _touch(tmp_path / ".git" / "x.jpg")
    listing = scan(tmp_path)
    assert listing.form == "class folders"
    assert [(e.path.relative_to(tmp_path).as_posix(), e.label) for e in listing.entries] == [
        ("cat/a.jpg", "cat"),
        ("cat/2024/b.PNG", "cat"),
        ("dog/c.jpeg", "dog"),
    ]
    assert listing.non_image == 1, "notes.txt counted; hidden files are not data"


def test_folder_names_may_be_class_indices_and_unknown_ones_are_counted(tmp_path: Path) -> None:
    _touch(tmp_path / "1" / "a.jpg")  # class index 1 -> output 1 ("cat"): no background offset for 4 outputs
    _touch(tmp_path / "Hot_Dog" / "b.jpg")
    _touch(tmp_path / "zebra" / "c.jpg")
    _touch(tmp_path / "zebra" / "d.jpg")
    _touch(tmp_path / "stray.jpg")
    dataset = assign(scan(tmp_path), MATCHER)
    assert sorted((s.path.name, s.truth) for s in dataset.samples) == [("a.jpg", 1), ("b.jpg", 3)]
    assert dataset.unknown == {"zebra": 2, NO_FOLDER: 1}
    assert dataset.unknown_count == 3


def test_symlinked_images_and_folders_are_followed(tmp_path: Path) -> None:
    real = tmp_path / "real"
    _touch(real / "a.jpg")
    tree = tmp_path / "tree"
    (tree / "cat").mkdir(parents=True)
    (tree / "cat" / "a.jpg").symlink_to(real / "a.jpg")
    (tree / "dog").symlink_to(real, target_is_directory=True)
    assert sorted(e.label for e in scan(tree).entries) == ["cat", "dog"]


def test_images_without_class_folders_point_at_a_manifest(tmp_path: Path) -> None:
    _touch(tmp_path / "a.jpg")
    _touch(tmp_path / "labels.csv", b"file,label\na.jpg,cat\n")
    with pytest.raises(EdgeAppError) as error:
        scan(tmp_path)
    assert "no class folders" in str(error.value) and str(tmp_path / "labels.csv") in str(error.value)


def test_csv_paths_are_relative_to_the_manifest(tmp_path: Path) -> None:
    manifest = _touch(
        tmp_path / "sets" / "val.csv",
        b"file,class_index,label\nimg/a.jpg,5,cat\n../b.jpg,6,dog\nreadme.md,7,cat\n/abs/c.jpg,1,zebra\n",
    )
    listing = scan(manifest)
    assert listing.form == "CSV manifest"
    assert [e.path for e in listing.entries] == [
        tmp_path / "sets/img/a.jpg",
        tmp_path / "sets/../b.jpg",
        Path("/abs/c.jpg"),
    ]
    assert listing.non_image == 1
    dataset = assign(listing, MATCHER)
    assert [s.truth for s in dataset.samples] == [1, 2], "the label column wins over class_index"
    assert dataset.unknown == {"zebra": 1}


def test_csv_class_index_is_used_without_a_label_column(tmp_path: Path) -> None:
    manifest = _touch(tmp_path / "m.csv", "\ufeffFile,Class_Index\na.jpg,2\nb.jpg,9\nc.jpg,cat\n".encode())
    dataset = assign(scan(manifest), MATCHER)
    assert [s.truth for s in dataset.samples] == [2]
    assert dataset.unknown == {"9": 1, "cat": 1}, "class_index holds numbers only"


@pytest.mark.parametrize(
    "text, needle",
    [
        ("file,species\na.jpg,cat\n", "needs a file column and a label or class_index column"),
        ("name,label\na.jpg,cat\n", "needs a file column"),
        ("", "found: nothing"),
    ],
)
def test_csv_without_the_needed_columns_is_an_error(tmp_path: Path, text: str, needle: str) -> None:
    with pytest.raises(EdgeAppError) as error:
        scan(_touch(tmp_path / "m.csv", text.encode()))
    assert needle in str(error.value)


def test_missing_or_wrong_data_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(EdgeAppError, match="dataset not found"):
        scan(tmp_path / "nope")
    with pytest.raises(EdgeAppError, match="neither a folder nor a .csv"):
        scan(_touch(tmp_path / "a.jpg"))
    with pytest.raises(EdgeAppError, match="cannot read manifest"):
        scan(_touch(tmp_path / "bin.csv", b"\xff\xfe\x00\x81"))
    _touch(tmp_path / "empty" / "cat" / "x.txt")
    with pytest.raises(EdgeAppError, match="no images found"):
        require_images(scan(tmp_path / "empty"))
