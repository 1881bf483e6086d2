"""`--events`: appended JSON lines, stdout flushed per line, a reader that leaves or stalls, a full disk."""

from __future__ import annotations

import io
import json
import sys
import threading
import time
from pathlib import Path

import pytest

from edge_app.errors import EdgeAppError
from edge_app.frames import Label, Result
from edge_app.pipeline import PipelineOptions
from edge_app.pipeline.capture import CaptureOptions
from edge_app.sinks.events import EventsSink
from tests.helpers.pipeline_fakes import FakeClassifier, ScriptedSource, make_pipeline
from tests.helpers.waiting import completes


def result(seq: int) -> Result:
    return Result(seq, 1_700_000_000.0 + seq, 0.0, (Label(seq % 3, f"class {seq % 3}", 0.5),), 4.0)


def started(target: str) -> EventsSink:
    sink = EventsSink(target)
    sink.start(threading.Event())
    return sink


class CountingStream(io.StringIO):
    """stdout stand-in that remembers how many lines had been flushed at each flush."""

    def __init__(self) -> None:
        super().__init__()
        self.flushed_lines: list[int] = []

    def flush(self) -> None:
        self.flushed_lines.append(self.getvalue().count("\n"))


class BrokenPipeStream(io.StringIO):
    """stdout after `| head` has exited."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        raise BrokenPipeError(32, "Broken pipe")


class BlockedStream(io.StringIO):
    """stdout whose reader stopped reading: write() blocks until `unblock` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.unblock = threading.Event()
        self.flushes = 0

    def write(self, text: str) -> int:
        self.entered.set()
        self.unblock.wait(10)
        return super().write(text)

    def flush(self) -> None:
        self.flushes += 1


def test_a_file_is_appended_to_never_truncated(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "events.jsonl"
    path.parent.mkdir()
    path.write_text('{"frame":99}\n')
    sink = started(str(path))
    for seq in range(3):
        sink.result(result(seq))
    sink.close()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [event["frame"] for event in lines] == [99, 0, 1, 2]
    assert lines[1]["top"] == [{"index": 0, "label": "class 0", "score": 0.5}] and sink.written == 3


def test_stdout_is_flushed_after_every_line(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = CountingStream()
    monkeypatch.setattr(sys, "stdout", stream)
    sink = started("-")
    for seq in range(3):
        sink.result(result(seq))
    assert stream.flushed_lines == [1, 2, 3]
    sink.close()
    assert not stream.closed  # stdout belongs to the process, not the sink


def test_a_reader_that_left_stops_writing_quietly(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = BrokenPipeStream()
    monkeypatch.setattr(sys, "stdout", stream)
    sink = started("-")
    sink.result(result(0))
    sink.result(result(1))
    sink.close()
    assert (stream.writes, sink.written) == (1, 0)


def test_a_full_disk_is_one_user_error_not_a_traceback() -> None:
    sink = started("/dev/full")
    with pytest.raises(EdgeAppError) as raised:
        sink.result(result(0))
    message = str(raised.value)
    assert (
        message == "cannot write events to /dev/full (No space left on device); free some space or choose another path"
    )
    sink.result(result(1))  # writing has stopped: no second error
    sink.close()


def test_the_pipeline_stops_with_the_full_disk_error(tmp_path: Path) -> None:
    source = ScriptedSource(lambda i: "frame" if i < 20 else "none", live=False)
    pipeline = make_pipeline(
        source,
        FakeClassifier(),
        [EventsSink("/dev/full")],
        PipelineOptions(overlay=False, capture=CaptureOptions(realtime=False)),
    )
    with pytest.raises(EdgeAppError, match=r"cannot write events to /dev/full \(No space left on device\)"):
        pipeline.run()


def test_close_gives_up_on_a_write_blocked_by_a_stalled_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = BlockedStream()
    monkeypatch.setattr(sys, "stdout", stream)
    sink = started("-")
    writer = threading.Thread(target=sink.result, args=(result(0),), daemon=True)
    writer.start()
    assert stream.entered.wait(5)  # the inference thread is stuck in write(), holding the lock
    begun = time.monotonic()
    completes(lambda: sink.close(timeout=0.2), message="close() waited for the blocked write")
    assert time.monotonic() - begun > 0.15  # it gave the write its timeout first (a lower bound: load cannot break it)
    assert stream.flushes == 0
    stream.unblock.set()
    writer.join(5)
    assert not writer.is_alive()
    sink.result(result(1))  # after close, later results are dropped
    assert stream.getvalue().count("\n") == 1


def test_close_flushes_when_nothing_is_blocked(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = BlockedStream()
    stream.unblock.set()
    monkeypatch.setattr(sys, "stdout", stream)
    sink = started("-")
    sink.result(result(0))
    sink.close(timeout=0.2)
    assert stream.flushes == 2  # once for the line, once on close
