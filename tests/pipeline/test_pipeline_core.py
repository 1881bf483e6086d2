"""The pipeline: frame policy, batch completeness, faults, stopping."""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import cv2
import pytest

from edge_app.model.classifier import Classifier, ModelOptions
from edge_app.pipeline import Pipeline, PipelineOptions
from edge_app.pipeline.capture import Capture, CaptureOptions, MediaClock, SourceHealth, retry_policy
from edge_app.sinks.events import EventsSink
from edge_app.sources.video import VideoFileSource
from tests.helpers.pipeline_fakes import FakeClassifier, RecordingSink, ScriptedSource, fault, make_pipeline
from tests.helpers.videos import make_video
from tests.helpers.waiting import completes, wait_until

FAST_BACKOFF = CaptureOptions(backoff_initial_s=0.02, backoff_max_s=0.1)


def run_in_thread(pipeline: Pipeline) -> tuple[threading.Thread, list[int]]:
    code: list[int] = []
    thread = threading.Thread(target=lambda: code.append(pipeline.run()), daemon=True)
    thread.start()
    return thread, code


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_video(tmp_path_factory.mktemp("video") / "imagenet.avi", 150, per_photo=5)


def test_batch_classifies_every_frame_exactly_like_single_images(
    model_cache: Path, video: Path, tmp_path: Path
) -> None:
    classifier = Classifier.open(ModelOptions(model="mobilenet_v2_1.0_224_quant"))
    events = tmp_path / "events.jsonl"
    recorder = RecordingSink()
    pipeline = make_pipeline(
        VideoFileSource(video),
        classifier,
        [EventsSink(str(events)), recorder],
        PipelineOptions(capture=CaptureOptions(realtime=False)),
    )
    assert pipeline.run() == 0
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    assert [e["frame"] for e in lines] == list(range(150))
    assert recorder.lossless is True and [seq for seq, _ in recorder.frames] == list(range(150))
    capture = cv2.VideoCapture(str(video))
    reference = []
    for _ in range(150):
        ok, image = capture.read()
        assert ok
        top, _, _ = classifier.classify(image, "bgr")
        reference.append(top[0].index)
    assert [e["top"][0]["index"] for e in lines] == reference
    event = lines[0]
    assert set(event) == {"camera", "region", "frame", "ts", "inference_ms", "top"}
    assert (event["camera"], event["region"]) == ("default", "frame") and abs(event["ts"] - time.time()) < 120
    assert set(event["top"][0]) == {"index", "label", "score"}


def test_live_inference_takes_the_newest_frame_and_display_does_not_wait_for_it() -> None:
    source = ScriptedSource(lambda i: "frame", live=False, fps=200)

    def five_frames_later() -> None:  # each inference lasts while the camera delivers 5 more frames
        target = min(source.reads + 5, 200)
        wait_until(lambda: source.reads >= target, interval=0.002, message="the source stopped delivering")

    classifier = FakeClassifier(busy_until=five_frames_later)
    sink = RecordingSink()
    pipeline = make_pipeline(source, classifier, [sink], PipelineOptions(capture=CaptureOptions(max_frames=200)))
    assert pipeline.run() == 0
    counts = pipeline.state.counters.snapshot()
    assert counts["captured"] == 200
    # Every frame is shown or counted as dropped, those before the display thread's first take included.
    assert counts["displayed"] == len(sink.frames)
    assert counts["displayed"] + counts["dropped_display"] == 200
    assert counts["classified"] <= 200 // 5 + 3  # a slow model skips stale frames instead of queueing them...
    assert (
        counts["classified"] + counts["dropped_inference"] <= 200 and counts["dropped_inference"] >= 200 - 200 // 5 - 5
    )
    assert (
        counts["displayed"] > 2 * counts["classified"]
    )  # ...and the display never waits for it (how fast it draws: benchmarks)
    assert classifier.seen == sorted(classifier.seen)  # always forward, newest first
    gaps = [
        b - a for a, b in zip(classifier.seen, classifier.seen[1:]) if b < 200 - 5
    ]  # the last ones have no 5 frames to wait for
    assert gaps and min(gaps) >= 4  # the frames captured during an inference were skipped
    assert all(r.seq == s for r, s in zip(sink.results, classifier.seen))
    assert sink.lossless is False


def test_a_result_is_shown_no_younger_than_its_inference_and_its_age_is_reported() -> None:
    """The bound that matters (p95 within two inferences and a frame) is a speed target:
    benchmarks/bench_responsiveness.py measures it with these fakes, bench_realtime.py with a real model."""
    delay = 0.02
    pipeline = make_pipeline(
        ScriptedSource(lambda i: "frame", live=False, fps=100.0),
        FakeClassifier(delay=delay),
        [RecordingSink()],
        PipelineOptions(capture=CaptureOptions(max_frames=60)),
    )
    assert pipeline.run() == 0
    youngest = pipeline.state.result_age_ms.percentile(0)
    assert (
        youngest is not None and youngest >= delay * 1000
    )  # age runs from the frame's capture, before its inference began
    status: dict[str, Any] = pipeline.state.status()
    assert status["result_age_ms"] is not None and status["latency"]["result_age_ms_p95"] >= youngest


@pytest.mark.slow
def test_files_are_paced_at_their_own_rate_in_real_time() -> None:
    source = ScriptedSource(lambda i: "frame", live=False, fps=50, fps_known_after_open=True)  # like a video file
    pipeline = make_pipeline(source, FakeClassifier(), [], PipelineOptions(capture=CaptureOptions(max_frames=50)))
    started = time.monotonic()
    assert pipeline.run() == 0
    # Paced, not flat out: 50 frames at 50 fps cannot take less than 49 frame intervals. A lower bound
    # only (a busy machine can make it later, never earlier); how close to 1 s it stays is in benchmarks.
    assert time.monotonic() - started >= 49 / 50


def test_a_failing_live_source_is_reopened_and_the_pipeline_resumes() -> None:
    def script(i: int) -> object:
        phase = i % 40
        if phase == 10:
            return fault("unplugged")
        if phase == 20:
            return "none"
        if 25 <= phase < 28:
            return "empty"
        if phase == 30:
            return ValueError("driver bug")
        return "frame"

    source = ScriptedSource(script, live=True)
    pipeline = make_pipeline(source, FakeClassifier(), [RecordingSink()], PipelineOptions(capture=FAST_BACKOFF))
    thread, code = run_in_thread(pipeline)
    try:

        def recovered_often() -> bool:
            health: dict[str, Any] = pipeline.state.health.snapshot()
            return (
                health["faults"] >= 6
                and health["reconnects"] >= 6
                and health["corrupt_frames"] >= 6
                and pipeline.state.counters["classified"] > 10
            )

        wait_until(
            recovered_often,
            timeout=30,
            message=lambda: f"health {pipeline.state.health.snapshot()}, {pipeline.state.counters.snapshot()}",
        )
    finally:
        pipeline.stop.set()
        thread.join(10)
    assert not thread.is_alive() and code == [0]
    assert source.opens == source.closes


def test_an_outage_shows_no_signal_and_status_reports_it() -> None:
    down = threading.Event()
    source = ScriptedSource(lambda i: fault("camera unplugged") if down.is_set() else "frame", live=True)
    sink = RecordingSink()
    pipeline = make_pipeline(
        source,
        FakeClassifier(),
        [sink],
        PipelineOptions(capture=CaptureOptions(backoff_initial_s=0.05, backoff_max_s=0.2), stall_s=0.2),
    )
    thread, code = run_in_thread(pipeline)
    assert pipeline.state.first_result.wait(10)
    down.set()

    def no_signal() -> dict[str, Any]:
        status: dict[str, Any] = pipeline.state.status()
        return status if status["state"] == "no signal" and (status["source"]["outage_s"] or 0) > 0.5 else {}

    status = wait_until(no_signal, message=lambda: f"status {pipeline.state.status()}")
    assert status["healthy"] is False and status["source"]["connected"] is False
    assert "camera unplugged" in status["source"]["reason"]
    wait_until(lambda: any(seq == -1 for seq, _ in sink.frames), message="the no-signal card never reached the sinks")
    down.clear()
    wait_until(
        lambda: pipeline.state.status()["state"] == "running", message=lambda: f"status {pipeline.state.status()}"
    )
    pipeline.stop.set()
    thread.join(10)
    assert code == [0]


def test_inference_errors_are_counted_and_only_fatal_when_they_persist() -> None:
    flaky = make_pipeline(
        ScriptedSource(lambda i: "frame", live=False, fps=200),
        FakeClassifier(fail=lambda i: i % 3 == 0),
        [],
        PipelineOptions(capture=CaptureOptions(max_frames=100)),
    )
    assert flaky.run() == 0 and flaky.state.counters["inference_errors"] > 0 and flaky.fatal is None
    broken = make_pipeline(
        ScriptedSource(lambda i: "frame", live=True),
        FakeClassifier(fail=lambda i: True),
        [],
        PipelineOptions(error_window_s=0.3),
    )
    assert completes(broken.run, message="persistent inference errors never ended the run") == 1
    assert "inference kept failing" in (broken.fatal or "")


@pytest.mark.slow
def test_stop_ends_the_run_even_with_a_source_stuck_in_a_driver_call() -> None:
    stuck = threading.Event()

    def script(i: int) -> object:
        if i == 5:
            stuck.wait(60)  # never set: a read that blocks in the "driver"
        return "frame"

    pipeline = make_pipeline(ScriptedSource(script, live=True), FakeClassifier(), [RecordingSink()], PipelineOptions())
    thread, code = run_in_thread(pipeline)
    try:
        # The stuck thread's heartbeat goes stale; the idle ones keep beating (every WAIT_S = 0.5 s).
        beats = pipeline.heartbeats
        wait_until(lambda: beats["capture"].age() > 1.5, message="the capture thread kept beating while stuck")
        assert beats["inference"].age() < beats["capture"].age()  # it beat since the capture thread got stuck
        pipeline.stop.set()
        thread.join(30)  # how long stopping takes: benchmarks/bench_responsiveness.py
        assert not thread.is_alive() and code == [0]
    finally:
        stuck.set()


def test_smoothing_averages_scores_over_results() -> None:
    sink = RecordingSink()
    pipeline = make_pipeline(
        ScriptedSource(lambda i: "frame", live=False, fps=None),
        FakeClassifier(),
        [sink],
        PipelineOptions(capture=CaptureOptions(realtime=False, max_frames=8), smooth=4),
    )
    assert pipeline.run() == 0
    # Raw tops cycle 0,1,2,3; averaged over 4 results each class scores 0.25 and ties keep the lowest index.
    assert [r.top[0].index for r in sink.results[3:]] == [0] * 5
    assert sink.results[3].top[0].score == pytest.approx(0.25)


def test_a_user_mistake_found_by_a_stage_is_raised_as_one_error_not_a_crash() -> None:
    from edge_app.errors import EdgeAppError

    source = ScriptedSource(lambda i: EdgeAppError("video clip.mp4 does not exist", "check the path"), live=False)
    pipeline = make_pipeline(source, FakeClassifier(), [RecordingSink()], PipelineOptions())
    with pytest.raises(EdgeAppError, match="does not exist"):
        pipeline.run()


def test_batch_lanes_finish_out_of_order_but_results_come_out_in_frame_order() -> None:
    lanes = [FakeClassifier(delay=0.002), FakeClassifier(delay=0.01), FakeClassifier(delay=0.004)]
    sink = RecordingSink()
    pipeline = make_pipeline(
        ScriptedSource(lambda i: "frame", live=False),
        lanes[0],
        [sink],
        PipelineOptions(capture=CaptureOptions(realtime=False, max_frames=120)),
        lanes=lanes,
    )
    assert pipeline.run() == 0
    assert [r.seq for r in sink.results] == list(range(120))
    assert [seq for seq, _ in sink.frames] == list(range(120))
    assert all(lane.calls > 10 for lane in lanes)  # every lane took a share


def test_drawing_never_touches_the_source_frames_inference_reads() -> None:
    import numpy as np

    shared = np.full((48, 64, 3), 77, np.uint8)  # a source that hands out one buffer, as a slideshow does

    class OneBuffer(ScriptedSource):
        def read(self) -> np.ndarray:
            self.reads += 1
            return shared

    sink = RecordingSink()
    pipeline = make_pipeline(
        OneBuffer(lambda i: "frame", live=False, fps=200),
        FakeClassifier(),
        [sink],
        PipelineOptions(capture=CaptureOptions(max_frames=30)),
    )
    assert pipeline.run() == 0
    assert sink.frames and (shared == 77).all()


class NeverOpens(ScriptedSource):
    """A camera that is not there: every open fails."""

    def open(self) -> None:
        self.opens += 1
        raise fault("no such device")


def test_a_source_that_never_opens_is_retried_and_the_log_says_why_once(caplog: pytest.LogCaptureFixture) -> None:
    source = NeverOpens(lambda i: "frame")
    options = replace(FAST_BACKOFF, max_frames=3)
    stop = threading.Event()
    capture = Capture(source, options, stop, SourceHealth(source.name))
    thread = threading.Thread(target=lambda: list(capture.frames()), daemon=True)
    with caplog.at_level(logging.WARNING, logger="edge_app.capture"):
        thread.start()
        try:
            wait_until(lambda: source.opens >= 5, timeout=30, message=lambda: f"{source.opens} opens")
        finally:
            stop.set()
            thread.join(10)
    assert not thread.is_alive() and capture.ended is None  # stopped from outside: max_frames never reached
    told = [r.getMessage() for r in caplog.records if "for as long as the run lasts" in r.getMessage()]
    assert told == [retry_policy("scripted", options)]  # once, not once per attempt
    assert "every 0.1 s at most" in told[0] and "--duration" in told[0] and "--max-frames 3 counts" in told[0]
    assert "--max-frames" not in retry_policy("scripted", CaptureOptions())


def test_batch_mode_stamps_a_file_with_its_own_time_however_fast_it_is_read() -> None:
    """Region intervals and motion gate on the frame's time, so a batch run over a file must carry
    the file's time (frame / fps), not the reader's, to give the same results on every machine."""
    source = ScriptedSource(lambda i: "frame", live=False, fps=10, fps_known_after_open=True)
    capture = Capture(source, CaptureOptions(realtime=False, max_frames=5), threading.Event(), SourceHealth("t"))
    frames = list(capture.frames())
    monos = [frame.mono - frames[0].mono for frame in frames]
    walls = [frame.ts - frames[0].ts for frame in frames]
    assert monos == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4]) and walls == pytest.approx(monos)


def test_media_clock_is_seq_over_fps_from_its_origin() -> None:
    clock = MediaClock(25.0, mono=100.0, wall=1_700_000_000.0)
    assert clock.stamp(0) == (1_700_000_000.0, 100.0)
    assert clock.stamp(50) == pytest.approx((1_700_000_002.0, 102.0))
