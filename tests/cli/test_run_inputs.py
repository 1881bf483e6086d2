"""`edge-app run` on finite inputs as a user runs it: a folder in batch mode ends after one pass,
and `--loop` keeps a short clip running."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.helpers.app_process import FAST_MODEL, log_of, processes, start  # noqa: F401  (fixture)
from tests.helpers.live_view import wait_until
from tests.helpers.shared_data import IMAGENET100
from tests.helpers.videos import make_video

pytestmark = pytest.mark.slow


def test_a_folder_in_batch_mode_gives_one_event_per_photo_then_ends(model_cache: Path, processes: list) -> None:
    process, reader = start(["--source", str(IMAGENET100), "--no-realtime", "--model", FAST_MODEL, "--events", "-"])
    processes.append(process)
    assert process.wait(120) == 0, log_of(process)
    reader.join(5)
    assert [e["frame"] for e in reader.events] == list(range(100))
    log = log_of(process)
    assert "end of input: 100 frames, 100 results, " in log
    assert "stopping" not in log, "the summary replaces the bare 'stopping'"


def test_loop_keeps_a_two_second_clip_running(model_cache: Path, tmp_path: Path, processes: list) -> None:
    clip = make_video(tmp_path / "clip.avi", 60, size=(320, 240), fps=30.0)  # 2 s
    process, reader = start(["--source", str(clip), "--loop", "--model", FAST_MODEL, "--events", "-"])
    processes.append(process)
    assert wait_until(
        lambda: bool(reader.events) and reader.events[-1]["frame"] > 130 or process.poll() is not None, timeout=90
    ), log_of(process)
    assert process.poll() is None, "still running after more than two passes: " + log_of(process)
    frames = [e["frame"] for e in reader.events]
    assert frames == sorted(frames) and len(set(frames)) == len(frames), "numbering goes on across the seam"
    process.send_signal(signal.SIGTERM)
    assert process.wait(10) == 0
    assert "Traceback" not in log_of(process)
