"""`--record`: sizes and no-signal cards, a playable file on stop, never overwriting, the source's rate.

Recordings are written with the real cv2.VideoWriter into tmp_path and read back with cv2.VideoCapture.
"""

from __future__ import annotations

import logging
import re
import shutil
import threading
import time
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge_app.errors import EdgeAppError
from edge_app.frames import Frame
from edge_app.pipeline import PipelineOptions
from edge_app.pipeline.capture import CaptureOptions
from edge_app.sinks.recorder import RecorderSink, fresh_path, resolve_fps
from pipeline_fakes import FakeClassifier, ScriptedSource, make_pipeline
from waiting import completes

SMALL = (64, 48)  # width, height


def image(value: int, size: tuple[int, int] = SMALL) -> np.ndarray:
    return np.full((size[1], size[0], 3), value % 256, np.uint8)


def send(sink: RecorderSink, seq: int, size: tuple[int, int] = SMALL) -> None:
    picture = image(seq * 20, size)
    sink.frame(picture, Frame(picture, seq), None)


def read_back(path: Path) -> tuple[int, tuple[int, int], float]:
    """(frames actually decodable, (width, height), CAP_PROP_FPS)."""
    capture = cv2.VideoCapture(str(path))
    assert capture.isOpened(), f"{path} cannot be opened"
    fps = capture.get(cv2.CAP_PROP_FPS)
    size = (int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    count = 0
    while capture.read()[0]:
        count += 1
    capture.release()
    return count, size, fps


def started(path: Path, fps: object = 12.0, lossless: bool = False, queue_size: int = 30) -> RecorderSink:
    sink = RecorderSink(str(path), fps, queue_size=queue_size)  # type: ignore[arg-type]
    sink.start(threading.Event(), lossless=lossless)
    return sink


class SlowVideoWriter:
    """The real cv2.VideoWriter behind a slow disk: each write takes `delay` seconds."""

    delay = 0.2
    real = cv2.VideoWriter

    writing = threading.Event()  # set by the first write; tests give each run a fresh one

    def __init__(self, *args: object) -> None:
        self._writer = self.real(*args)

    def isOpened(self) -> bool:  # noqa: N802 - mirrors cv2
        return self._writer.isOpened()

    def write(self, picture: np.ndarray) -> None:
        self.writing.set()
        time.sleep(self.delay)
        self._writer.write(picture)

    def release(self) -> None:
        self._writer.release()


# -- sizes and no-signal cards ------------------------------------------------------------


def test_cards_before_the_first_frame_are_ignored_and_later_ones_are_resized(tmp_path: Path) -> None:
    sink = started(tmp_path / "rec.avi", lossless=True)
    card = image(200, (640, 480))
    for _ in range(3):  # the camera is slow to start: the display shows "no signal" first
        sink.frame(card, Frame(card, -1), None)
    for seq in range(5):
        send(sink, seq)
    sink.frame(card, Frame(card, -1), None)  # an outage mid-run: the card is part of the story
    send(sink, 5, (80, 60))  # a stream that changed size
    sink.close()
    assert (sink.written, sink.dropped) == (7, 0)
    count, size, _ = read_back(sink.path)
    assert (count, size) == (7, SMALL)


def test_an_outage_card_at_startup_does_not_fix_the_size_of_a_live_recording(tmp_path: Path) -> None:
    """Through the pipeline: the source stalls first, so the display sends 640x480 cards before 64x48 frames."""
    source = ScriptedSource(lambda i: 0.4 if i == 0 else "frame", live=True, size=SMALL)
    sink = RecorderSink(str(tmp_path / "live.avi"), lambda: source.fps)
    options = PipelineOptions(duration=0.9, stall_s=0.1)
    assert make_pipeline(source, FakeClassifier(), [sink], options).run() == 0
    count, size, fps = read_back(sink.path)
    assert size == SMALL and count == sink.written and count > 3
    assert fps == pytest.approx(30.0)  # the scripted camera reports no rate


# -- stopping leaves a playable file ------------------------------------------------------


def test_live_close_drops_the_backlog_and_finalises_the_mp4(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SlowVideoWriter, "writing", threading.Event())
    monkeypatch.setattr(cv2, "VideoWriter", SlowVideoWriter)
    sink = started(tmp_path / "live.mp4")
    send(sink, 0)
    assert SlowVideoWriter.writing.wait(5)  # the writer is busy with frame 0
    for seq in range(1, 32):  # a full queue: ~6 s of slow writes behind the first frame
        send(sink, seq)
    completes(lambda: sink.close(timeout=1.0), message="close() wrote the backlog")  # how soon it returns: benchmarks/bench_responsiveness.py
    assert sink._thread is not None and not sink._thread.is_alive()  # release() ran: the moov atom is written
    assert (sink.written, sink.dropped) == (1, 31)
    monkeypatch.undo()
    count, size, fps = read_back(sink.path)
    assert (count, size) == (sink.written, SMALL) and fps == pytest.approx(12.0)


def test_batch_close_writes_the_whole_backlog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SlowVideoWriter, "delay", 0.01)
    monkeypatch.setattr(cv2, "VideoWriter", SlowVideoWriter)
    sink = started(tmp_path / "batch.mp4", lossless=True, queue_size=30)
    for seq in range(40):
        send(sink, seq)
    sink.close(timeout=0.05)  # the pipeline's budget may be nearly spent; batch waits anyway
    monkeypatch.undo()
    assert (sink.written, sink.dropped) == (40, 0)
    assert read_back(sink.path)[:2] == (40, SMALL)


@pytest.mark.parametrize("lossless", [False, True])
def test_a_writer_that_cannot_open_stops_queueing_and_raises_one_user_error(tmp_path: Path, lossless: bool) -> None:
    folder = tmp_path / "usb-stick"
    sink = started(folder / "rec.avi", lossless=lossless)
    shutil.rmtree(folder)  # the stick was pulled after start
    send(sink, 0)
    assert sink._thread is not None
    sink._thread.join(5)
    assert not sink._thread.is_alive()
    with pytest.raises(EdgeAppError) as raised:
        send(sink, 1)
    assert str(sink.path) in str(raised.value) and "\n" not in str(raised.value)
    assert sink._queue.empty()
    closing = threading.Thread(target=sink.close, args=(0.1,), daemon=True)
    closing.start()
    closing.join(5)
    assert not closing.is_alive()  # a dead writer never makes close() wait


def test_the_pipeline_reports_a_failed_recording_as_one_error(tmp_path: Path) -> None:
    folder = tmp_path / "usb-stick"
    sink = RecorderSink(str(folder / "rec.avi"), 10.0)
    real_start = sink.start

    def start_then_unplug(stop: threading.Event, lossless: bool = False) -> None:
        real_start(stop, lossless)
        shutil.rmtree(folder)

    sink.start = start_then_unplug  # type: ignore[method-assign]
    source = ScriptedSource(lambda i: "frame" if i < 50 else "none", live=False)
    pipeline = make_pipeline(source, FakeClassifier(), [sink], PipelineOptions(capture=CaptureOptions(realtime=False)))
    with pytest.raises(EdgeAppError, match="cannot open .*rec.avi for recording"):
        pipeline.run()


# -- never overwrite ----------------------------------------------------------------------


def test_an_existing_file_is_kept_and_the_recording_gets_a_fresh_name(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    old = tmp_path / "garden.avi"
    old.write_bytes(b"yesterday")
    with caplog.at_level(logging.INFO, logger="edge_app.recorder"):
        sink = RecorderSink(str(old), 10.0)
    assert re.fullmatch(r"garden-\d{8}-\d{6}\.avi", sink.path.name) and sink.path.parent == tmp_path
    assert str(sink.path) in caplog.text
    sink.start(threading.Event(), lossless=True)
    send(sink, 0)
    sink.close()
    assert old.read_bytes() == b"yesterday"
    assert read_back(sink.path)[0] == 1


def test_a_free_path_is_used_as_given(tmp_path: Path) -> None:
    assert RecorderSink(str(tmp_path / "new.mp4"), None).path == tmp_path / "new.mp4"


def test_fresh_names_count_up_when_the_timestamped_name_is_taken_too() -> None:
    taken = {Path("/v/cam.mp4"), Path("/v/cam-20240501-070809.mp4"), Path("/v/cam-20240501-070809-1.mp4")}
    now = datetime(2024, 5, 1, 7, 8, 9)
    assert fresh_path(Path("/v/cam.mp4"), now, taken.__contains__) == Path("/v/cam-20240501-070809-2.mp4")
    assert fresh_path(Path("/v/other.mp4"), now, taken.__contains__) == Path("/v/other.mp4")


def test_an_unknown_video_type_is_refused_up_front(tmp_path: Path) -> None:
    with pytest.raises(EdgeAppError, match="unknown video type .txt"):
        RecorderSink(str(tmp_path / "notes.txt"), None)


# -- frame rate ---------------------------------------------------------------------------


def test_a_callable_rate_is_asked_when_the_first_frame_arrives(tmp_path: Path) -> None:
    asked: list[float] = []

    def rate() -> float:
        asked.append(12.5)
        return 12.5

    sink = started(tmp_path / "rate.mp4", rate, lossless=True)
    assert asked == []  # not in the constructor nor at start: the source may not be open yet
    for seq in range(3):
        send(sink, seq)
    sink.close()
    assert asked == [12.5] and sink.fps == 12.5
    assert read_back(sink.path) == (3, SMALL, pytest.approx(12.5))


def test_a_file_source_records_at_its_own_rate_known_only_once_open(tmp_path: Path) -> None:
    source = ScriptedSource(lambda i: "frame" if i < 20 else "none", live=False, fps=12.0, fps_known_after_open=True)
    assert source.fps is None  # what the constructor would have seen
    sink = RecorderSink(str(tmp_path / "clip.avi"), lambda: source.fps)
    pipeline = make_pipeline(source, FakeClassifier(), [sink], PipelineOptions(capture=CaptureOptions(realtime=False)))
    assert pipeline.run() == 0
    assert read_back(sink.path) == (20, SMALL, pytest.approx(12.0))


@pytest.mark.parametrize(("given", "expected"), [(None, 30.0), (lambda: None, 30.0), (0.0, 30.0), (float("nan"), 30.0), (lambda: 24.0, 24.0), (15, 15.0)])
def test_rate_falls_back_to_30_when_unknown(given: object, expected: float) -> None:
    assert resolve_fps(given) == expected  # type: ignore[arg-type]
