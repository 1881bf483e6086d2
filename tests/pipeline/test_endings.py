"""How finite inputs end or start over: folders classified once per photo, --loop, and the
one summary line a run that ends by itself leaves in the log."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from edge_app.app import loop_mode
from edge_app.errors import EdgeAppError
from edge_app.frames import Frame, Result
from edge_app.pipeline import PipelineOptions
from edge_app.pipeline.capture import CaptureOptions
from edge_app.settings import resolve
from edge_app.sources.slideshow import SlideshowSource
from edge_app.sources.synthetic import SyntheticSource
from edge_app.sources.video import StreamSource
from tests.helpers.pipeline_fakes import FakeClassifier, RecordingSink, ScriptedSource, make_pipeline
from tests.helpers.shared_data import IMAGES

SHARED_PHOTOS = 7


def settings_for(**cli: object):
    return resolve(cli, None, environ={})


@pytest.mark.shared
def test_a_folder_in_batch_mode_classifies_each_photo_once_then_ends(caplog: pytest.LogCaptureFixture) -> None:
    source = SlideshowSource(IMAGES, period=2.0)  # 20 frames a photo, for the display
    classifier, sink = FakeClassifier(), RecordingSink()
    pipeline = make_pipeline(source, classifier, [sink], PipelineOptions(capture=CaptureOptions(realtime=False)))
    with caplog.at_level(logging.INFO, logger="edge_app"):
        assert pipeline.run() == 0
    assert [r.seq for r in sink.results] == list(range(SHARED_PHOTOS))
    assert [seq for seq, _ in sink.frames] == list(range(SHARED_PHOTOS))
    assert pipeline.ended == "end of input"
    [line] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("end of input")]
    assert line.startswith(f"end of input: {SHARED_PHOTOS} frames, {SHARED_PHOTOS} results, ")
    assert line.endswith(" s") and " fps, " in line


@pytest.mark.shared
def test_a_slideshow_in_real_time_gives_one_result_per_photo_shown(tmp_path: Path) -> None:
    for name in ("a.jpg", "b.bmp", "c.jpg"):
        shutil.copy(IMAGES / {"a.jpg": "parrot.jpg", "b.bmp": "cat.bmp", "c.jpg": "owl.jpg"}[name], tmp_path / name)
    source = SlideshowSource(tmp_path, period=0.5, size=(160, 120))  # 5 frames a photo at 10 a second
    classifier, sink = FakeClassifier(), RecordingSink()
    pipeline = make_pipeline(source, classifier, [sink], PipelineOptions(capture=CaptureOptions(realtime=True)))
    assert pipeline.run() == 0
    assert len(sink.frames) == 15, "the display still gets every frame"
    assert len(sink.results) == 3, "one result per photo, not one per frame that shows it"
    assert pipeline.state.counters["classified"] == 3


def test_a_held_photo_is_labelled_as_fresh_as_the_frame_that_shows_it() -> None:
    """The age on screen says how far the label lags the picture: none, while the same photo is held."""
    image = np.zeros((4, 4, 3), np.uint8)
    result = Result(0, 0.0, mono=100.0, top=(), inference_ms=1.0, still=3)
    assert result.age_s(Frame(image, 5, mono=101.5, still=3), now=101.6) == pytest.approx(0.1)
    assert result.age_s(Frame(image, 25, mono=102.0, still=4), now=102.1) == pytest.approx(2.1), (
        "the next photo: the label lags"
    )
    moving = Result(0, 0.0, mono=100.0, top=(), inference_ms=1.0)
    assert moving.age_s(Frame(image, 5, mono=101.5), now=101.6) == pytest.approx(1.6)


def _passes(length: int):
    """A file of `length` frames: read() gives None at the end of each pass."""
    return lambda step: "none" if step % (length + 1) == length else "frame"


def test_loop_reopens_a_file_at_its_end_and_numbering_goes_on() -> None:
    source = ScriptedSource(_passes(3), live=False)
    sink = RecordingSink()
    pipeline = make_pipeline(
        source,
        FakeClassifier(),
        [sink],
        PipelineOptions(capture=CaptureOptions(realtime=False, loop=True, max_frames=10)),
    )
    assert pipeline.run() == 0
    assert [seq for seq, _ in sink.frames] == list(range(10))
    assert source.opens == 4 and source.opens == source.closes
    assert pipeline.ended == "max frames reached"


def test_loop_on_an_input_without_frames_ends_instead_of_spinning() -> None:
    source = ScriptedSource(lambda step: "none", live=False)
    pipeline = make_pipeline(source, FakeClassifier(), [], PipelineOptions(capture=CaptureOptions(loop=True)))
    assert pipeline.run() == 0
    assert source.opens == 1 and pipeline.ended == "end of input"


def test_a_run_stopped_from_outside_reports_no_ending() -> None:
    source = ScriptedSource(lambda step: "frame", live=True)
    pipeline = make_pipeline(source, FakeClassifier(), [], PipelineOptions(duration=0.3))
    assert pipeline.run() == 0 and pipeline.ended == "duration reached"
    stopped = make_pipeline(ScriptedSource(lambda step: "frame", live=True), FakeClassifier(), [])
    stopped.stop.set()
    assert stopped.run() == 0 and stopped.ended is None


def test_loop_is_for_files_and_folders_in_real_time(caplog: pytest.LogCaptureFixture) -> None:
    assert loop_mode(settings_for(loop=True), SyntheticSource(), batch=False) is True
    assert loop_mode(settings_for(), SyntheticSource(), batch=False) is False
    with pytest.raises(EdgeAppError, match="--loop and --no-realtime together") as refused:
        loop_mode(settings_for(loop=True, realtime=False), SyntheticSource(), batch=True)
    assert "--no-realtime for one pass" in refused.value.hint
    with caplog.at_level(logging.WARNING):
        assert loop_mode(settings_for(loop=True), StreamSource("rtsp://127.0.0.1:9/x"), batch=False) is False
    assert "--loop applies to files and folders" in caplog.text
