"""Teaching from the live view over HTTP, on a real pipeline: examples from the camera and from
photos, bad requests answered 4xx with nothing lost, training that switches the live labels in the
same process, reset, download, and the taught model after a restart."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter

from edge_app.images import read_image
from edge_app.model.labels import embedded_labels
from edge_app.model.preprocess import InputSpec, to_tensor
from edge_app.settings import resolve
from edge_app.teach import teacher as teacher_module
from edge_app.teach.http import MAX_PHOTO
from tests.helpers.teach import Client, photos, running, slideshow, species
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.shared


def settings_for(tmp_path: Path, **extra: Any) -> Any:
    values = {
        "source": str(slideshow(tmp_path / "show")),
        "loop": True,
        "fps": 4.0,
        "http": "127.0.0.1:0",
        "state_dir": str(tmp_path / "state"),
        **extra,
    }
    return resolve(values, None, environ={})


@pytest.fixture
def live(model_cache: Path, tmp_path: Path) -> Iterator[tuple[Client, Any]]:
    yield from running(settings_for(tmp_path))


def taught_labels(client: Client) -> list[str]:
    code, status = client.call("GET", "/api/status")
    assert code == 200
    return [label["label"] for label in status["labels"]]


def too_large(client: Client) -> tuple[int, Any]:
    """A photo one byte over the limit, announced but not sent: the answer comes before the body."""
    parts = urlsplit(client.base)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        head = (
            f"POST /api/teach/examples?label=x HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: "
            f"image/jpeg\r\nContent-Length: {MAX_PHOTO + 1}\r\n\r\n"
        )
        sock.sendall(head.encode())
        answer = sock.makefile("rb").read()
    status, _, rest = answer.partition(b"\r\n")
    return int(status.split()[1]), json.loads(rest.partition(b"\r\n\r\n")[2])


def test_bad_requests_are_4xx_and_lose_nothing(live: tuple[Client, Any]) -> None:
    client, _ = live
    tulip = photos("train", species()[0], 1)[0]
    assert client.add("keep", tulip) == (201, {"label": "keep", "examples": 1, "added": True})
    assert client.add("keep", tulip) == (201, {"label": "keep", "examples": 1, "added": False})  # the same photo again
    bad = [
        client.call("POST", "/api/teach/examples?label=x", b"this is not a photo", "image/jpeg"),
        client.call("POST", "/api/teach/examples?label=x", b"\xff\xd8\xff broken jpeg", "image/jpeg"),
        client.call("POST", "/api/teach/examples?label=x", tulip.read_bytes(), "text/plain"),
        client.call("POST", "/api/teach/examples", tulip.read_bytes(), "image/jpeg"),
        client.call("POST", "/api/teach/examples?label=", tulip.read_bytes(), "image/jpeg"),
        client.call("POST", "/api/teach/examples?label=" + "x" * 49, tulip.read_bytes(), "image/jpeg"),
        client.call("POST", "/api/teach/examples?label=..%2Fetc", tulip.read_bytes(), "image/jpeg"),
        too_large(client),
        client.call("DELETE", "/api/teach/classes/nothing-like-this"),
        client.call("POST", "/api/teach/train"),
    ]
    codes = [code for code, _ in bad]
    assert codes == [415, 400, 415, 400, 400, 400, 400, 413, 404, 422], bad
    assert "JPEG or PNG" in bad[1][1]["error"] and "WebP" not in bad[1][1]["error"]
    assert all(isinstance(body, dict) and body["error"] for _, body in bad)
    assert "at least 2 classes" in bad[-1][1]["error"]
    assert client.add("other", tulip)[0] == 201
    code, body = client.call("POST", "/api/teach/train")
    assert code == 422 and "'keep' has 1 (add 1 more)" in body["error"] and "'other' has 1" in body["error"]
    assert client.counts() == {"keep": 1, "other": 1}  # nothing lost on the way
    assert client.teach()["trained"] is False


def test_the_current_frame_becomes_an_example_and_its_class_can_go(live: tuple[Client, Any]) -> None:
    client, _ = live
    wait_until(lambda: client.add("here")[0] == 201, timeout=30, message="no frame was classified")
    assert client.counts() == {"here": 1}
    thumbnail = client.teach()["classes"][0]["photos"][0]
    code, jpeg = client.call("GET", thumbnail)
    assert code == 200 and jpeg[:3] == b"\xff\xd8\xff"
    assert client.call("DELETE", "/api/teach/classes/here") == (200, {"deleted": "here", "examples": 1})
    assert client.counts() == {}


def test_train_switches_the_live_labels_then_reset_goes_back(live: tuple[Client, Any], tmp_path: Path) -> None:
    client, run = live
    names = species()
    for name in names:
        for photo in photos("train", name, 10):
            assert client.add(name, photo)[0] == 201
    assert client.counts() == {name: 10 for name in names}
    code, trained = client.call("POST", "/api/teach/train")
    assert code == 200 and trained["classes"] == names and trained["examples"] == 40 and trained["live"] is True
    assert trained["val_top1"] is not None and 0 <= trained["val_top1"] <= 1 and trained["seconds"] > 0
    assert taught_labels(client)[0] in names  # the very next status already names a taught class
    assert client.teach()["model"].startswith("taught on ") and client.teach()["trained"] is True
    code, model = client.call("GET", "/api/teach/model.tflite")
    assert code == 200 and embedded_labels(model) == dict(enumerate(names))
    assert (tmp_path / "state" / "teach" / "model.tflite").read_bytes() == model

    code, reset = client.call("POST", "/api/teach/reset")
    assert code == 200 and reset["examples_kept"] is True and reset["removed_taught_model"] is True
    wait_until(
        lambda: taught_labels(client) and taught_labels(client)[0] not in names,
        message="the base model's labels never came back",
    )
    assert client.counts() == {name: 10 for name in names} and client.call("GET", "/api/teach/model.tflite")[0] == 404
    code, emptied = client.call("POST", "/api/teach/reset?examples=delete")
    assert code == 200 and emptied["examples_deleted"] == 40 and client.counts() == {}


def test_a_second_train_while_one_runs_is_409_and_cancel_or_reset_stop_it(
    live: tuple[Client, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, _ = live
    for name in species()[:2]:
        for photo in photos("train", name, 2):
            client.add(name, photo)
    entered = threading.Event()
    real = teacher_module.Teacher._train

    def slow(self: Any, on_stage: Any) -> Any:
        """A training that takes until someone cancels it (as 2,000 classes once took 750 s)."""
        entered.set()
        self._cancel.wait(60)
        return real(self, on_stage)

    monkeypatch.setattr(teacher_module.Teacher, "_train", slow)

    def start() -> tuple[threading.Thread, list[tuple[int, Any]]]:
        entered.clear()
        answers: list[tuple[int, Any]] = []
        thread = threading.Thread(target=lambda: answers.append(client.call("POST", "/api/teach/train")))
        thread.start()
        assert entered.wait(30)
        return thread, answers

    thread, first = start()
    code, body = client.call("POST", "/api/teach/train")
    assert code == 409 and "already running" in body["error"]
    status = client.teach()
    assert status["training"] is True and status["progress"]["stage"] == "starting"
    assert client.call("POST", "/api/teach/cancel") == (200, {"cancelled": True})
    thread.join(60)
    assert first[0][0] == 409 and "cancelled" in first[0][1]["error"]
    assert client.teach()["trained"] is False and client.teach()["training"] is False  # the model in use stays

    thread, second = start()  # a reset does not wait for the training to finish: it cancels it
    assert client.call("POST", "/api/teach/reset")[0] == 200
    thread.join(60)
    assert second[0][0] == 409 and "cancelled" in second[0][1]["error"]
    assert client.call("POST", "/api/teach/cancel") == (200, {"cancelled": False})  # nothing runs now

    monkeypatch.setattr(teacher_module.Teacher, "_train", real)
    code, trained = client.call("POST", "/api/teach/train")
    assert code == 200 and trained["val_top1"] is None and trained["skipped"] == []  # 2 a class: too few to validate


def scores_bare(model: bytes, photo: Path) -> np.ndarray:
    """The downloaded model alone, in a plain interpreter (crop, bilinear, RGB)."""
    interpreter = Interpreter(model_content=model)
    interpreter.allocate_tensors()
    detail = interpreter.get_input_details()[0]
    spec = InputSpec(
        int(detail["shape"][1]), int(detail["shape"][2]), np.dtype(detail["dtype"]), *detail["quantization"]
    )
    interpreter.set_tensor(detail["index"], to_tensor(read_image(photo), spec, "bgr"))
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])[0]


@pytest.mark.slow
def test_the_downloaded_model_alone_scores_held_out_photos_and_a_restart_uses_it_in_batch(
    model_cache: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    names = species()
    for client, _ in running(settings_for(tmp_path)):
        for name in names:
            for photo in photos("train", name, 10):
                client.add(name, photo)
        assert client.call("POST", "/api/teach/train")[0] == 200
        _, model = client.call("GET", "/api/teach/model.tflite")
    test = [(name, photo) for name in names for photo in photos("test", name)]
    right = sum(names[int(np.argmax(scores_bare(model, photo)))] == name for name, photo in test)
    assert right / len(test) >= 0.85, f"{right} of {len(test)}"

    events = tmp_path / "events.jsonl"
    batch = resolve(
        {
            "source": str(tmp_path / "show"),
            "realtime": False,
            "events": str(events),
            "state_dir": str(tmp_path / "state"),
        },
        None,
        environ={},
    )
    from edge_app.app import build
    from edge_app.service.notify import Notifier

    with caplog.at_level("INFO"):
        run = build(batch, threading.Event(), Notifier(None))
        assert run.pipeline.run() == 0
    assert "using the model taught from the live view" in caplog.text
    frames = sorted((tmp_path / "show").iterdir())
    results = [json.loads(line) for line in events.read_text().splitlines()]
    assert len(results) == len(frames)
    right = sum(result["top"][0]["label"] == frames[result["frame"]].name.split("_")[0] for result in results)
    assert right / len(results) >= 0.85, f"{right} of {len(results)}"


def test_with_teaching_off_the_endpoint_says_why(model_cache: Path, tmp_path: Path) -> None:
    for client, run in running(settings_for(tmp_path, teach=False)):
        status = client.teach()
        assert status["enabled"] is False and "teach = false" in status["reason"]
        assert client.call("POST", "/api/teach/train")[0] == 404
        assert run.pipeline.parts.lanes[0].embedding_size == 0
