"""The parallel runner: order, failures, overlap of decoding with inference, bounded read-ahead,
lanes used one thread at a time, and how open_lanes splits the cores.

The fake classifier mirrors the members the runner uses (labels, prepare, infer); each
generated image encodes its own row number so any reordering shows up as a wrong prediction.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import cast

import cv2
import numpy as np
import pytest

from edge_app.errors import EdgeAppError
from edge_app.evaluate.runner import predict
from edge_app.model import lanes as lanes_module
from edge_app.model.classifier import Classifier, ModelOptions
from tests.fakes.tflite_fakes import fake_litert
from tests.helpers.shared_data import IMAGES, MODELS

CLASSES = 64


class FakeClassifier:
    """Classifier.prepare/infer/labels: the 'model' predicts the class painted into the image.

    Both steps can take a while (a sleep releases the GIL, as cv2 and LiteRT do), and record
    when they ran, so a test can see whether decoding overlapped inference."""

    def __init__(self, fail_at: int | None = None, step_s: float = 0.0) -> None:
        self.labels = [f"c{i}" for i in range(CLASSES)]
        self.fail_at = fail_at
        self.step_s = step_s
        self.prepare_threads: set[str] = set()
        self.prepare_spans: list[tuple[float, float]] = []
        self.infer_spans: list[tuple[float, float]] = []
        self.prepared = 0
        self.inferred = 0
        self.max_ahead = 0
        self.busy = False
        self.shared_use = False
        self._lock = threading.Lock()

    def prepare(self, image: np.ndarray, order: str = "bgr") -> np.ndarray:
        assert order == "bgr"
        start = time.perf_counter()
        self.prepare_threads.add(threading.current_thread().name)
        with self._lock:
            self.prepared += 1
            self.max_ahead = max(self.max_ahead, self.prepared - self.inferred)
        time.sleep(self.step_s)
        self.prepare_spans.append((start, time.perf_counter()))
        return np.array([int(image[0, 0, 0])])

    def infer(self, tensor: np.ndarray) -> tuple[np.ndarray, float]:
        self.shared_use |= self.busy
        self.busy = True
        start = time.perf_counter()
        try:
            row = int(tensor[0])
            if row == self.fail_at:
                raise EdgeAppError("inference failed in fake.tflite: boom", "check the model")
            time.sleep(self.step_s)
            scores = np.zeros(CLASSES, np.float32)
            scores[row % CLASSES] = 1.0
            scores[(row + 1) % CLASSES] = 0.5
            return scores, 1.0
        finally:
            self.infer_spans.append((start, time.perf_counter()))
            with self._lock:
                self.inferred += 1
            self.busy = False


def lanes_of(*fakes: FakeClassifier) -> list[Classifier]:
    """The fakes where predict() names the real Classifier: they have the labels, prepare and infer it uses."""
    return [cast(Classifier, fake) for fake in fakes]


def _images(folder: Path, count: int) -> list[Path]:
    paths = []
    for row in range(count):
        path = folder / f"{row:03d}.png"
        cv2.imwrite(str(path), np.full((16 + row % 7, 20, 3), row, np.uint8))
        paths.append(path)
    return paths


def test_results_stay_in_order_and_bad_files_are_recorded(tmp_path: Path) -> None:
    paths = _images(tmp_path, 30)
    (tmp_path / "007.png").write_bytes(b"not a png")
    paths[12] = tmp_path / "missing.png"
    good = [row for row in range(30) if row not in (7, 12)]
    fake = FakeClassifier()
    seen: list[int] = []
    result = predict(lanes_of(fake), paths, k=3, workers=3, on_image=lambda: seen.append(1))
    assert len(seen) == 30
    assert sorted(result.failed) == [7, 12]
    assert "007.png is not a readable image" in result.failed[7] and "missing.png" in result.failed[12]
    assert result.top[good, 0].tolist() == good
    assert result.top[good, 1].tolist() == [row + 1 for row in good]
    assert result.top[7].tolist() == [-1, -1, -1] and not result.ok[7]
    np.testing.assert_allclose(result.scores[good, :2], [[1.0, 0.5]] * len(good))
    assert len(result.invoke_ms) == 28 and result.images_per_s > 0


def test_decoding_runs_on_worker_threads_while_inference_proceeds(tmp_path: Path) -> None:
    fake = FakeClassifier(step_s=0.01)
    predict(lanes_of(fake), _images(tmp_path, 20), workers=2)
    assert threading.current_thread().name not in fake.prepare_threads
    assert all(name.startswith("eval") for name in fake.prepare_threads)
    overlapped = [any(p0 < i1 and i0 < p1 for p0, p1 in fake.prepare_spans) for i0, i1 in fake.infer_spans]
    assert len(overlapped) == 20 and sum(overlapped) >= 15, "another image was being prepared during most inferences"


def test_read_ahead_is_bounded(tmp_path: Path) -> None:
    fake = FakeClassifier()
    predict(lanes_of(fake), _images(tmp_path, 40), workers=2)
    assert 1 <= fake.max_ahead <= 2 * 2 + 1  # bounded; how far ahead it gets depends on the machine's load


def test_a_failing_model_stops_the_run_and_the_decoders(tmp_path: Path) -> None:
    fake = FakeClassifier(fail_at=3)
    with pytest.raises(EdgeAppError, match="boom"):
        predict(lanes_of(fake), _images(tmp_path, 60), workers=2)
    assert fake.prepared <= 3 + 1 + 2 * 2 + 2, "queued decodes were cancelled"


def test_k_is_capped_by_the_number_of_outputs(tmp_path: Path) -> None:
    fake = FakeClassifier()
    result = predict(lanes_of(fake), _images(tmp_path, 3), k=CLASSES + 10, workers=1)
    assert result.top.shape == (3, CLASSES)


def test_lanes_share_the_work_and_each_runs_on_one_thread_at_a_time(tmp_path: Path) -> None:
    lanes = [FakeClassifier(step_s=0.002) for _ in range(3)]
    result = predict(lanes_of(*lanes), _images(tmp_path, 40), workers=4)
    assert result.top[:, 0].tolist() == list(range(40))
    assert sum(len(lane.infer_spans) for lane in lanes) == 40 and all(lane.infer_spans for lane in lanes)
    assert not any(lane.shared_use for lane in lanes)
    assert lanes[0].prepared == 40 and lanes[1].prepared == lanes[2].prepared == 0


SMALL = "mobilenet_v1_0.25_128_quant"


def test_open_lanes_splits_every_core(model_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lanes_module, "cores", lambda: 4)
    default = lanes_module.open_lanes(ModelOptions(model=SMALL, delegate="cpu"))
    assert [c.info.threads for c in default] == [1, 1, 1, 1]
    assert len({id(c.interpreter) for c in default}) == 4, "one interpreter per lane"
    assert [c.info.threads for c in lanes_module.open_lanes(ModelOptions(model=SMALL, delegate="cpu", threads=2))] == [
        2,
        2,
    ]
    assert [c.info.threads for c in lanes_module.open_lanes(ModelOptions(model=SMALL, delegate="cpu"), lanes=2)] == [
        2,
        2,
    ]
    assert [c.info.threads for c in lanes_module.open_lanes(ModelOptions(model=SMALL, delegate="cpu", threads=8))] == [
        8
    ]


def test_an_edgetpu_gets_one_lane(model_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (model_cache / f"{SMALL}_edgetpu.tflite").symlink_to(MODELS / f"{SMALL}.tflite")
    fake_litert(monkeypatch, "loads")
    [only] = lanes_module.open_lanes(ModelOptions(model=SMALL, delegate="edgetpu"), lanes=4)
    assert only.info.delegate == "edgetpu"


def test_lanes_agree_with_one_interpreter(model_cache: Path) -> None:
    paths = sorted(IMAGES.iterdir())
    one = predict([Classifier.open(ModelOptions(model=SMALL, delegate="cpu", threads=2))], paths)
    lanes = predict(lanes_module.open_lanes(ModelOptions(model=SMALL, delegate="cpu"), lanes=3), paths)
    np.testing.assert_array_equal(one.top, lanes.top)
    np.testing.assert_array_equal(one.scores, lanes.scores)
