"""Teaching against a damaged state dir and bad data, on the real base model: a taught model or
note the SD card garbled is set aside with one line and teaching stays usable; an unreadable
example is skipped and reported; a corrupt embedding cache is recomputed; reset always works;
the HTTP edge maps teaching's domain errors to statuses in one table."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from edge_app.endpoints import Request
from edge_app.model.classifier import Classifier
from edge_app.model.options import ModelOptions
from edge_app.pipeline.model_slot import ModelSlot
from edge_app.teach import errors
from edge_app.teach import teacher as teacher_module
from edge_app.teach.http import STATUS, routes
from edge_app.teach.models import Base, choose
from edge_app.teach.store import ExampleStore
from edge_app.teach.teacher import Teacher
from tests.helpers.shared_data import MODELS
from tests.helpers.teach import photos, species

pytestmark = pytest.mark.shared

BASE = MODELS / "mobilenet_v2_1.0_224_quant.tflite"
OPTIONS = ModelOptions(model=str(BASE), threads=1)


def base() -> Base:
    data = BASE.read_bytes()
    return Base(BASE.name, data, hashlib.sha256(data).hexdigest())


def teacher_on(store: ExampleStore) -> Teacher:
    chosen = choose([Classifier.open(OPTIONS)], store, OPTIONS, live=True)
    assert chosen.teachable and chosen.base is not None
    return Teacher(store, ModelSlot(chosen.lanes[0]), chosen.base, chosen.taught)


@pytest.fixture(autouse=True)
def _no_screen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(teacher_module, "LIVE_WAIT_S", 0.0)  # no pipeline publishes here


@pytest.fixture
def teacher(tmp_path: Path) -> Iterator[Teacher]:
    yield teacher_on(ExampleStore(tmp_path / "teach"))


def add_two_classes(teacher: Teacher, each: int = 3) -> list[str]:
    names = species()[:2]
    for name in names:
        for photo in photos("train", name, each):
            assert teacher.add_photo(name, photo.read_bytes())["added"]
    return names


@pytest.fixture
def taught_state(tmp_path: Path) -> Path:
    """A state dir with a sound taught model in it, made once per test."""
    teacher = teacher_on(ExampleStore(tmp_path / "teach"))
    add_two_classes(teacher, 2)
    teacher.train()
    return tmp_path / "teach"


def _classes_five(model: bytes) -> bytes:
    import io
    import zipfile

    from edge_app.teach.store import read_note, with_note
    from edge_app.train.surgery import with_labels

    note = read_note(model)
    assert note is not None
    with zipfile.ZipFile(io.BytesIO(model)) as archive:
        start = min(entry.header_offset for entry in archive.infolist())
    return with_note(with_labels(model[:start], note["classes"]), {**note, "classes": 5})


def _flatbuffer_damaged(model: bytes) -> bytes:
    return b"\xff" * 8 + model[8:]  # the zip at the end is intact, the model is not


def _truncated(model: bytes) -> bytes:
    return model[: len(model) // 2]


@pytest.mark.parametrize(
    ("damage", "words"),
    [(_classes_five, '"classes": 5'), (_flatbuffer_damaged, "does not load"), (_truncated, "truncated")],
)
def test_a_damaged_taught_model_is_set_aside_and_teaching_stays_usable(
    taught_state: Path, damage: object, words: str, caplog: pytest.LogCaptureFixture
) -> None:
    model = taught_state / "model.tflite"
    assert callable(damage)
    model.write_bytes(damage(model.read_bytes()))
    caplog.clear()
    with caplog.at_level(logging.INFO, "edge_app.teach"):
        teacher = teacher_on(ExampleStore(taught_state))  # start-up: no traceback, no crash loop
    said = [r.getMessage() for r in caplog.records if " is damaged " in r.getMessage()]
    assert len(said) == 1 and str(model) in said[0] and words in said[0] and "base model" in said[0], said
    assert "cannot be taught" not in caplog.text  # the base model is not blamed
    assert teacher.taught is None and teacher.slot.current.info.name == BASE.stem and not model.exists()
    assert [p.name for p in taught_state.iterdir() if p.name.startswith("model.tflite.damaged-")]
    assert teacher.status()["enabled"] is True
    assert teacher.add_photo(species()[0], photos("train", species()[0], 3)[2].read_bytes())["added"]
    assert teacher.train().classes == species()[:2]
    assert teacher.reset()["removed_taught_model"] is True


def test_reset_works_whatever_the_state_dir_holds(tmp_path: Path) -> None:
    store = ExampleStore(tmp_path / "teach")
    teacher = teacher_on(store)
    add_two_classes(teacher, 2)
    store.model_path.mkdir()  # a folder where the model should be
    (store.examples / "bad\nlabel").mkdir()  # made by hand: no label passes
    (store.examples / "bad\nlabel" / "x.jpg").write_bytes(b"not a photo")
    answer = teacher.reset(keep_examples=False)
    assert answer["removed_taught_model"] is True and answer["examples_deleted"] == 5
    assert not store.model_path.exists() and store.classes() == {}


def test_an_unreadable_example_is_skipped_and_reported_and_can_be_deleted(teacher: Teacher) -> None:
    names = add_two_classes(teacher)
    broken = teacher.store.classes()[names[0]][0]
    broken.path.write_bytes(b"\xff\xd8\xff" + b"\x00" * 100)  # the card garbled it
    for path in (teacher.store.root / "embeddings").rglob("*.npy"):
        path.unlink()  # and the cache is gone: the photo must be read
    trained = teacher.train()
    assert trained.examples == 5 and [(s.label, s.digest) for s in trained.skipped] == [(names[0], broken.digest)]
    assert trained.as_dict()["skipped"][0]["why"]
    assert teacher.delete_example(names[0], broken.digest) == {
        "deleted": broken.digest,
        "label": names[0],
        "examples": 2,
    }
    assert teacher.train().skipped == []


def test_cached_embeddings_that_are_nan_or_huge_are_recomputed(teacher: Teacher) -> None:
    names = add_two_classes(teacher, 5)
    good = teacher.train()
    files = sorted((teacher.store.root / "embeddings").rglob("*.npy"))
    assert len(files) == 10
    sound = np.load(files[0])
    for i, path in enumerate(files):
        value = np.full(sound.shape, np.nan if i % 2 else 3e38, np.float32)
        np.save(path, value)  # a corrupt cache: right shape and dtype, wrong numbers
    again = teacher.train()
    assert again.classes == names and again.val_top1 == good.val_top1
    assert np.allclose(np.load(files[0]), sound)  # recomputed and cached again


def test_a_model_that_does_not_read_back_is_never_written(teacher: Teacher, monkeypatch: pytest.MonkeyPatch) -> None:
    add_two_classes(teacher, 2)
    import edge_app.train as train

    real = train.build_classifier_model

    def split_label(base_model: bytes, head: train.Head, labels: list[str]) -> bytes:
        return real(base_model, head, [labels[0] + "\u2028x", *labels[1:]])  # a label that reads back as two

    monkeypatch.setattr(train, "build_classifier_model", split_label)
    with pytest.raises(errors.Failed, match="nothing was written"):
        teacher.train()
    assert not teacher.store.model_path.exists() and teacher.taught is None
    monkeypatch.setattr(train, "build_classifier_model", real)
    assert teacher.train().classes == species()[:2]  # and teaching goes on


def test_the_class_count_is_capped_at_training(teacher: Teacher, monkeypatch: pytest.MonkeyPatch) -> None:
    add_two_classes(teacher, 2)
    monkeypatch.setattr(teacher_module, "MAX_CLASSES", 1)
    with pytest.raises(errors.NotEnough, match="at most 1 classes, there are 2"):
        teacher.train()


def _request(method: str, path: str, body: bytes = b"", query: dict[str, list[str]] | None = None) -> Request:
    return Request(method, path, query or {}, {"Content-Type": "image/jpeg"} if body else {}, body)


def test_the_http_edge_maps_domain_errors_in_one_table(teacher: Teacher) -> None:
    table = {route.method + " " + route.path: route.handler for route in routes(teacher)}
    add = table["POST /api/teach/examples"]
    photo = photos("train", species()[0], 1)[0].read_bytes()
    bad_label = add(_request("POST", "/api/teach/examples", photo, {"label": ["line\u2028break"]}))
    assert bad_label.status == 400 and "line breaks" in json.loads(bad_label.body)["error"]
    made = add(_request("POST", "/api/teach/examples", photo, {"label": ["tulip"]}))
    assert made.status == 201
    listed = json.loads(table["GET /api/teach"](_request("GET", "/api/teach")).body)
    url = listed["classes"][0]["photos"][0]
    assert "recent" not in listed["classes"][0] and url.startswith("/api/teach/photos/tulip/")
    thumb = table["GET /api/teach/photos/"](_request("GET", url))
    assert thumb.status == 200 and thumb.body == next(teacher.store.examples.rglob(".*.thumb.jpg")).read_bytes()
    gone = table["DELETE /api/teach/examples/"](_request("DELETE", url.replace("/photos/", "/examples/")))
    assert gone.status == 200 and json.loads(gone.body) == {
        "deleted": url.rsplit("/", 1)[1],
        "label": "tulip",
        "examples": 0,
    }
    assert table["GET /api/teach/photos/"](_request("GET", url)).status == 404
    assert {kind: int(code) for kind, code in STATUS.items()}[errors.Busy] == 503


def test_an_upload_beyond_the_pixel_budget_is_503_with_retry_after(
    teacher: Teacher, monkeypatch: pytest.MonkeyPatch
) -> None:
    from edge_app.pixel_budget import PixelBudget
    from edge_app.teach import photos as photos_module

    full = PixelBudget(megapixels=1, wait_s=0.0)
    monkeypatch.setattr(photos_module, "DECODING", full)
    add = {route.method + " " + route.path: route.handler for route in routes(teacher)}["POST /api/teach/examples"]
    photo = photos("train", species()[0], 1)[0].read_bytes()
    with full.hold(1_000_000):  # others are decoding the whole budget
        busy = add(_request("POST", "/api/teach/examples", photo, {"label": ["tulip"]}))
    assert (
        busy.status == 503 and ("Retry-After", "1") in busy.headers and "megapixels" in json.loads(busy.body)["error"]
    )
    assert teacher.store.classes() == {}  # nothing half-kept
    assert add(_request("POST", "/api/teach/examples", photo, {"label": ["tulip"]})).status == 201


def test_an_old_example_without_a_thumbnail_gets_one_once(teacher: Teacher) -> None:
    teacher.add_photo("tulip", photos("train", species()[0], 1)[0].read_bytes())
    example = teacher.store.classes()["tulip"][0]
    example.thumbnail.unlink()
    first = teacher.thumbnail("tulip", example.digest)
    assert example.thumbnail.read_bytes() == first and first[:3] == b"\xff\xd8\xff"
    os.chmod(example.path, 0)  # from now on the photo is never decoded again for its thumbnail
    try:
        assert teacher.thumbnail("tulip", example.digest) == first
    finally:
        os.chmod(example.path, 0o644)
