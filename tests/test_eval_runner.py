"""The parallel runner: order, failures, overlap of decoding with inference, bounded read-ahead.

The fake classifier mirrors the three members the runner uses (labels, prepare, infer); each
generated image encodes its own row number so any reordering shows up as a wrong prediction.
"""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge_app.errors import EdgeAppError
from edge_app.evaluate.runner import predict

CLASSES = 64


class FakeClassifier:
    """Classifier.prepare/infer/labels: the 'model' predicts the class painted into the image."""

    def __init__(self, decodable: list[int], fail_at: int | None = None) -> None:
        self.decodable = sorted(decodable)
        self.labels = [f"c{i}" for i in range(CLASSES)]
        self.prepare_threads: set[str] = set()
        self.started: dict[int, threading.Event] = {}
        self.overlapped: list[bool] = []
        self.prepared = 0
        self.max_ahead = 0
        self.inferred = 0
        self.fail_at = fail_at
        self._lock = threading.Lock()

    def event(self, row: int) -> threading.Event:
        with self._lock:
            return self.started.setdefault(row, threading.Event())

    def prepare(self, image: np.ndarray, order: str = "bgr") -> np.ndarray:
        assert order == "bgr"
        row = int(image[0, 0, 0])
        self.prepare_threads.add(threading.current_thread().name)
        with self._lock:
            self.prepared += 1
            self.max_ahead = max(self.max_ahead, self.prepared - self.inferred)
        self.event(row).set()
        return np.array([row])

    def infer(self, tensor: np.ndarray) -> tuple[np.ndarray, float]:
        row = int(tensor[0])
        if row == self.fail_at:
            raise EdgeAppError("inference failed in fake.tflite: boom", "check the model")
        # while this image is "inferred", the next one is being decoded on another thread
        following = [r for r in self.decodable if r > row]
        if following:
            self.overlapped.append(self.event(following[0]).wait(timeout=10))
        with self._lock:
            self.inferred += 1
        scores = np.zeros(CLASSES, np.float32)
        scores[row % CLASSES] = 1.0
        scores[(row + 1) % CLASSES] = 0.5
        return scores, 1.0


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
    fake = FakeClassifier(good)
    seen: list[int] = []
    result = predict(fake, paths, k=3, workers=3, on_image=lambda: seen.append(1))  # type: ignore[arg-type]
    assert len(seen) == 30
    assert sorted(result.failed) == [7, 12]
    assert "007.png is not a readable image" in result.failed[7] and "missing.png" in result.failed[12]
    assert result.top[good, 0].tolist() == good
    assert result.top[good, 1].tolist() == [row + 1 for row in good]
    assert result.top[7].tolist() == [-1, -1, -1] and not result.ok[7]
    np.testing.assert_allclose(result.scores[good, :2], [[1.0, 0.5]] * len(good))
    assert len(result.invoke_ms) == 28 and result.images_per_s > 0


def test_decoding_runs_on_worker_threads_while_inference_proceeds(tmp_path: Path) -> None:
    fake = FakeClassifier(list(range(20)))
    predict(fake, _images(tmp_path, 20), workers=2)  # type: ignore[arg-type]
    assert threading.current_thread().name not in fake.prepare_threads
    assert all(name.startswith("eval-decode") for name in fake.prepare_threads)
    assert len(fake.overlapped) == 19 and all(fake.overlapped), "the next image was being prepared during each inference"


def test_read_ahead_is_bounded(tmp_path: Path) -> None:
    fake = FakeClassifier(list(range(40)))
    predict(fake, _images(tmp_path, 40), workers=2)  # type: ignore[arg-type]
    assert 2 <= fake.max_ahead <= 2 * 2 + 1


def test_a_failing_model_stops_the_run_and_the_decoders(tmp_path: Path) -> None:
    fake = FakeClassifier(list(range(60)), fail_at=3)
    with pytest.raises(EdgeAppError, match="boom"):
        predict(fake, _images(tmp_path, 60), workers=2)  # type: ignore[arg-type]
    assert fake.prepared <= 3 + 1 + 2 * 2 + 2, "queued decodes were cancelled"


def test_k_is_capped_by_the_number_of_outputs(tmp_path: Path) -> None:
    fake = FakeClassifier([0, 1, 2])
    result = predict(fake, _images(tmp_path, 3), k=CLASSES + 10, workers=1)  # type: ignore[arg-type]
    assert result.top.shape == (3, CLASSES)
