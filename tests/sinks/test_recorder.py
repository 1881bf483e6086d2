"""`--record`: sizes and no-signal cards, a playable file on stop, never overwriting, the source's rate.

Recordings are written with the real encoder (PyAV) into tmp_path and read back with cv2.VideoCapture.
"""

from __future__ import annotations

import errno
import io
import logging
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import av
import cv2
import numpy as np
import pytest

from edge_app.errors import EdgeAppError
from edge_app.frames import Frame
from edge_app.pipeline import PipelineOptions
from edge_app.pipeline.capture import CaptureOptions
from edge_app.sinks import recorder, video_file
from edge_app.sinks.events import EventsSink
from edge_app.sinks.recorder import FpsSpec, RecorderSink, fresh_path, resolve_fps
from edge_app.sinks.video_file import VideoFile
from tests.helpers.pipeline_fakes import FakeClassifier, ScriptedSource, make_pipeline
from tests.helpers.waiting import completes, wait_until

if TYPE_CHECKING:
    from typing_extensions import Buffer

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


def started(path: Path, fps: FpsSpec = 12.0, lossless: bool = False, queue_size: int = 30) -> RecorderSink:
    sink = RecorderSink(str(path), fps, queue_size=queue_size)
    sink.start(threading.Event(), lossless=lossless)
    return sink


class SlowVideoFile(VideoFile):
    """The real VideoFile behind a slow disk: each write takes `delay` seconds."""

    delay = 0.2
    writing = threading.Event()  # set by the first write; tests give each run a fresh one

    def write(self, picture: np.ndarray) -> None:
        self.writing.set()
        time.sleep(self.delay)
        super().write(picture)


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
    monkeypatch.setattr(SlowVideoFile, "writing", threading.Event())
    monkeypatch.setattr(recorder, "VideoFile", SlowVideoFile)
    sink = started(tmp_path / "live.mp4")
    send(sink, 0)
    assert SlowVideoFile.writing.wait(5)  # the writer is busy with frame 0
    for seq in range(1, 32):  # a full queue: ~6 s of slow writes behind the first frame
        send(sink, seq)
    completes(
        lambda: sink.close(timeout=1.0), message="close() wrote the backlog"
    )  # how soon it returns: benchmarks/bench_responsiveness.py
    assert sink.wait_finished(0)  # close() ran: the last fragment is written
    assert (sink.written, sink.dropped) == (1, 31)
    monkeypatch.undo()
    count, size, fps = read_back(sink.path)
    assert (count, size) == (sink.written, SMALL) and fps == pytest.approx(12.0)


def test_batch_close_writes_the_whole_backlog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SlowVideoFile, "delay", 0.01)
    monkeypatch.setattr(recorder, "VideoFile", SlowVideoFile)
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
    assert sink.wait_finished(5)
    with pytest.raises(EdgeAppError) as raised:
        send(sink, 1)
    assert str(sink.path) in str(raised.value) and "\n" not in str(raised.value)
    assert sink.backlog == 0
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

    sink.start = start_then_unplug  # type: ignore[method-assign]  # deliberately: the disk goes once it started
    source = ScriptedSource(lambda i: "frame" if i < 50 else "none", live=False)
    pipeline = make_pipeline(source, FakeClassifier(), [sink], PipelineOptions(capture=CaptureOptions(realtime=False)))
    with pytest.raises(EdgeAppError, match="cannot open .*rec.avi for recording"):
        pipeline.run()


# -- never overwrite ----------------------------------------------------------------------


def test_an_existing_file_is_kept_and_the_recording_gets_a_fresh_name(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
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


@pytest.mark.parametrize(
    ("given", "expected"),
    [(None, 30.0), (lambda: None, 30.0), (0.0, 30.0), (float("nan"), 30.0), (lambda: 24.0, 24.0), (15, 15.0)],
)
def test_rate_falls_back_to_30_when_unknown(given: FpsSpec, expected: float) -> None:
    assert resolve_fps(given) == expected


# -- format, full disk, crash -------------------------------------------------------------


class FillingDisk(io.FileIO):
    """A file on a disk with room for the header and `fragments` fragments of a fragmented MP4: the
    write that starts the next fragment fails with ENOSPC, as on a full disk. Counting fragments,
    not bytes, keeps the verdict off the encoder's output size (its version, its threads)."""

    def __init__(self, path: Path, fragments: int) -> None:
        super().__init__(path, "xb")
        self.room = fragments

    def write(self, data: Buffer) -> int:
        if bytes(memoryview(data)[4:8]) == b"moof":  # the muxer writes each fragment from its moof box (flush_packets)
            if self.room == 0:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            self.room -= 1
        return super().write(data)


def codec_of(path: Path) -> str:
    with av.open(str(path)) as container:
        return container.streams.video[0].codec_context.name


def test_mp4_is_h264_and_the_log_says_so(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="edge_app.recorder"):
        sink = started(tmp_path / "web.mp4", lossless=True)
        for seq in range(3):
            send(sink, seq, (65, 49))  # odd sides: 4:2:0 video loses the last row and column
        sink.close()
    assert codec_of(sink.path) == "h264"
    assert "recording H.264 (libx264) in fragmented MP4 at 64x48" in caplog.text
    assert read_back(sink.path)[:2] == (3, (64, 48))


def test_a_full_disk_ends_the_recording_with_one_line_and_the_run_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(video_file, "_create", lambda path: FillingDisk(path, fragments=2))
    events = tmp_path / "events.jsonl"
    sink = RecorderSink(str(tmp_path / "full.mp4"), 10.0)
    source = ScriptedSource(lambda i: "frame" if i < 300 else "none", live=False, size=(160, 120))
    pipeline = make_pipeline(
        source,
        FakeClassifier(),
        [EventsSink(str(events)), sink],
        PipelineOptions(capture=CaptureOptions(realtime=False)),
    )
    with caplog.at_level(logging.INFO):
        assert pipeline.run() == 0
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(errors) == 1 and "No space left on device" in errors[0] and "\n" not in errors[0]
    assert "the recording so far (20 frames) is kept" in errors[0]
    assert len(events.read_text().splitlines()) == 300  # the rest of the run went on
    assert read_back(sink.path)[0] == sink.kept == 20  # the two whole fragments at 10 fps play
    assert "(20 frames)" in caplog.text or f"recorded 20 frames to {sink.path}" in caplog.text  # on disk, not encoded
    assert sink.wait_finished(0)


def test_a_recording_whose_folder_is_deleted_mid_run_is_said_in_one_line_and_starts_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "recordings"
    with caplog.at_level(logging.INFO, logger="edge_app.recorder"):
        sink = started(folder / "run.mp4", fps=12.0, lossless=True)  # a fragment every 12 frames
        for seq in range(30):
            send(sink, seq)
        wait_until(lambda: sink.kept >= 24, message=lambda: f"{sink.kept} frames on disk")
        shutil.rmtree(folder)  # a clean-up job, or a user, removes the folder mid-run
        for seq in range(30, 60):
            send(sink, seq)
        sink.close()
    said = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(said) == 1 and "\n" not in said[0], said
    assert f"{sink.path} was deleted while recording" in said[0] and "its 36 frames are lost" in said[0]
    assert sink.lost == 36 and sink.path == folder / "run.mp4"  # checked at the next fragment, then afresh
    assert read_back(sink.path)[0] == sink.kept == 24  # every frame after the check is in the new file


def test_a_recording_deleted_after_its_last_fragment_is_said_at_close(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="edge_app.recorder"):
        sink = started(tmp_path / "short.mp4", fps=12.0, lossless=True)
        send(sink, 0)
        wait_until(lambda: sink.written == 1)
        sink.path.unlink()
        send(sink, 1)
        sink.close()
    assert [r.getMessage() for r in caplog.records] == [
        f"recording: {sink.path} was deleted while recording (its folder removed?); its 2 frames are lost"
    ]
    assert sink.kept == 0 and not sink.path.exists()


@pytest.mark.slow
def test_a_killed_run_leaves_a_recording_that_plays_up_to_its_last_second(model_cache: Path, tmp_path: Path) -> None:
    path = tmp_path / "crash.mp4"
    args = [
        "--source",
        "synthetic",
        "--fps",
        "30",
        "--model",
        "mobilenet_v1_0.25_128_quant",
        "--record",
        str(path),
        "--log-level",
        "debug",
    ]
    process = subprocess.Popen(
        [sys.executable, "-m", "edge_app", "run", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    on_disk = 0
    try:
        assert process.stderr is not None
        for line in process.stderr:  # "recording: N frames on disk in ..." once a second
            found = re.search(r"recording: (\d+) frames on disk", line)
            if found and int(found.group(1)) >= 90:
                on_disk = int(found.group(1))
                break
    finally:
        process.kill()
        process.wait(10)
    assert on_disk >= 90, "the recording never reached 3 s on disk"
    count, size, _ = read_back(path)
    assert count >= on_disk and size == (640, 480)
    assert codec_of(path) == "h264"
