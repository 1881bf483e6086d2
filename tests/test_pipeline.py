"""The pipeline: frame policy, batch completeness, faults, stopping."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import cv2
import pytest

from edge_app.model.classifier import Classifier, ModelOptions
from edge_app.pipeline import PipelineOptions
from edge_app.pipeline.capture import CaptureOptions
from edge_app.sinks.events import EventsSink
from edge_app.sources.video import VideoFileSource
from pipeline_fakes import FakeClassifier, RecordingSink, ScriptedSource, fault, make_pipeline
from videos import make_video

FAST_BACKOFF = dict(backoff_initial_s=0.02, backoff_max_s=0.1)


def run_in_thread(pipeline: Pipeline) -> tuple[threading.Thread, list[int]]:
    code: list[int] = []
    thread = threading.Thread(target=lambda: code.append(pipeline.run()), daemon=True)
    thread.start()
    return thread, code


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_video(tmp_path_factory.mktemp("video") / "imagenet.avi", 150, per_photo=5)


def test_batch_classifies_every_frame_exactly_like_single_images(model_cache: Path, video: Path, tmp_path: Path) -> None:
    classifier = Classifier.open(ModelOptions(model="mobilenet_v2_1.0_224_quant"))
    events = tmp_path / "events.jsonl"
    recorder = RecordingSink()
    pipeline = make_pipeline(VideoFileSource(video), classifier, [EventsSink(str(events)), recorder], PipelineOptions(capture=CaptureOptions(realtime=False)))
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
    assert set(event) == {"frame", "ts", "inference_ms", "top"} and abs(event["ts"] - time.time()) < 120
    assert set(event["top"][0]) == {"index", "label", "score"}


def test_live_inference_takes_the_newest_frame_and_display_shows_every_frame() -> None:
    source = ScriptedSource(lambda i: "frame", live=False, fps=200)
    classifier = FakeClassifier(delay=0.03)
    sink = RecordingSink()
    pipeline = make_pipeline(source, classifier, [sink], PipelineOptions(capture=CaptureOptions(max_frames=200)))
    assert pipeline.run() == 0
    counts = pipeline.state.counters.snapshot()
    assert counts["captured"] == 200
    assert counts["displayed"] + counts["dropped_display"] == 200
    assert counts["displayed"] >= 150  # drawing is cheap: the display keeps up with the camera
    assert counts["dropped_inference"] > 100  # a slow model skips stale frames instead of queueing them
    assert counts["classified"] + counts["dropped_inference"] <= 200
    assert classifier.seen == sorted(classifier.seen)  # always forward, newest first
    assert all(r.seq == s for r, s in zip(sink.results, classifier.seen))
    assert sink.lossless is False


def test_result_age_stays_within_two_inferences_and_a_frame() -> None:
    fps, delay = 100.0, 0.02
    pipeline = make_pipeline(ScriptedSource(lambda i: "frame", live=False, fps=fps), FakeClassifier(delay=delay), [RecordingSink()], PipelineOptions(capture=CaptureOptions(max_frames=300)))
    assert pipeline.run() == 0
    p95 = pipeline.state.result_age_ms.percentile(95)
    assert p95 is not None and p95 <= (2 * delay + 1 / fps) * 1000 + 15  # + scheduling slack


def test_files_are_paced_at_their_own_rate_in_real_time() -> None:
    source = ScriptedSource(lambda i: "frame", live=False, fps=50, fps_known_after_open=True)  # like a video file
    pipeline = make_pipeline(source, FakeClassifier(), [], PipelineOptions(capture=CaptureOptions(max_frames=50)))
    started = time.monotonic()
    assert pipeline.run() == 0
    assert 0.9 <= time.monotonic() - started <= 2.0


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
    pipeline = make_pipeline(source, FakeClassifier(), [RecordingSink()], PipelineOptions(capture=CaptureOptions(**FAST_BACKOFF), duration=1.5))
    assert pipeline.run() == 0
    health = pipeline.state.health.snapshot()
    assert health["faults"] >= 6 and health["reconnects"] >= 6
    assert health["corrupt_frames"] >= 6
    assert source.opens == source.closes
    assert pipeline.state.counters["classified"] > 10


def test_an_outage_shows_no_signal_and_status_reports_it() -> None:
    down = threading.Event()
    source = ScriptedSource(lambda i: fault("camera unplugged") if down.is_set() else "frame", live=True)
    sink = RecordingSink()
    pipeline = make_pipeline(source, FakeClassifier(), [sink], PipelineOptions(capture=CaptureOptions(backoff_initial_s=0.05, backoff_max_s=0.2), stall_s=0.2))
    thread, code = run_in_thread(pipeline)
    assert pipeline.state.first_result.wait(5)
    down.set()
    time.sleep(1.0)
    status = pipeline.state.status()
    assert status["state"] == "no signal" and status["healthy"] is False
    assert status["source"]["connected"] is False and status["source"]["outage_s"] > 0.5
    assert "camera unplugged" in status["source"]["reason"]
    assert any(seq == -1 for seq, _ in sink.frames)  # the no-signal card reached the sinks
    down.clear()
    deadline = time.monotonic() + 3
    while pipeline.state.status()["state"] != "running" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pipeline.state.status()["state"] == "running"
    pipeline.stop.set()
    thread.join(3)
    assert code == [0]


def test_inference_errors_are_counted_and_only_fatal_when_they_persist() -> None:
    flaky = make_pipeline(ScriptedSource(lambda i: "frame", live=False, fps=200), FakeClassifier(fail=lambda i: i % 3 == 0), [], PipelineOptions(capture=CaptureOptions(max_frames=100)))
    assert flaky.run() == 0 and flaky.state.counters["inference_errors"] > 0 and flaky.fatal is None
    broken = make_pipeline(ScriptedSource(lambda i: "frame", live=True), FakeClassifier(fail=lambda i: True), [], PipelineOptions(error_window_s=0.3))
    started = time.monotonic()
    assert broken.run() == 1
    assert "inference kept failing" in (broken.fatal or "")
    assert time.monotonic() - started < 3


def test_stop_ends_the_run_quickly_even_with_a_source_stuck_in_a_driver_call() -> None:
    stuck = threading.Event()

    def script(i: int) -> object:
        if i == 5:
            stuck.wait(30)  # never set: a read that blocks in the "driver"
        return "frame"

    pipeline = make_pipeline(ScriptedSource(script, live=True), FakeClassifier(), [RecordingSink()], PipelineOptions())
    thread, code = run_in_thread(pipeline)
    time.sleep(1.5)
    # The stuck thread's heartbeat goes stale; the idle ones keep beating (every WAIT_S = 0.5 s).
    assert pipeline.heartbeats["capture"].age() > 1.2 and pipeline.heartbeats["inference"].age() < 1.0
    started = time.monotonic()
    pipeline.stop.set()
    thread.join(3)
    assert not thread.is_alive() and code == [0]
    assert time.monotonic() - started < 2.0
    stuck.set()


def test_smoothing_averages_scores_over_results() -> None:
    sink = RecordingSink()
    pipeline = make_pipeline(ScriptedSource(lambda i: "frame", live=False, fps=None), FakeClassifier(), [sink], PipelineOptions(capture=CaptureOptions(realtime=False, max_frames=8), smooth=4))
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
    pipeline = make_pipeline(ScriptedSource(lambda i: "frame", live=False), lanes[0], [sink], PipelineOptions(capture=CaptureOptions(realtime=False, max_frames=120)), lanes=lanes)
    assert pipeline.run() == 0
    assert [r.seq for r in sink.results] == list(range(120))
    assert [seq for seq, _ in sink.frames] == list(range(120))
    assert all(lane.calls > 10 for lane in lanes)  # every lane took a share


def test_drawing_never_touches_the_source_frames_inference_reads() -> None:
    import numpy as np

    shared = np.full((48, 64, 3), 77, np.uint8)  # a source that hands out one buffer, as a slideshow does

    class OneBuffer(ScriptedSource):
        def read(self):  # type: ignore[override]
            self.reads += 1
            return shared

    sink = RecordingSink()
    pipeline = make_pipeline(OneBuffer(lambda i: "frame", live=False, fps=200), FakeClassifier(), [sink], PipelineOptions(capture=CaptureOptions(max_frames=30)))
    assert pipeline.run() == 0
    assert sink.frames and (shared == 77).all()
