"""`edge-app run` assembled in-process: app.build, the outputs the settings choose, and SIGHUP reload."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge_app.app import RunLoop, batch_mode, build
from edge_app.errors import EdgeAppError
from edge_app.pipeline.state import PipelineState
from edge_app.service.notify import Notifier
from edge_app.settings import Settings, resolve
from edge_app.sinks.events import EventsSink
from edge_app.sinks.registry import SinkContext, build_sinks
from edge_app.sources.synthetic import SyntheticSource
from edge_app.sources.video import StreamSource
from edge_app.web.sink import HttpSink
from tests.helpers.pipeline_fakes import fake_state
from tests.helpers.shared_data import IMAGES, MODELS
from tests.helpers.waiting import wait_until

FAST_MODEL = "mobilenet_v1_0.25_128_quant"


def settings_for(**cli: object):
    return resolve(cli, None, environ={})


@pytest.fixture
def state() -> PipelineState:
    return fake_state()


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def close(sinks: list) -> None:
    for sink in sinks:
        sink.close(0.5)


def test_no_output_chosen_gives_the_default_live_view(state) -> None:
    sinks = build_sinks(settings_for(), SinkContext(state, lambda: None))
    try:
        assert [type(s) for s in sinks] == [HttpSink]
        view = sinks[0]
        assert isinstance(view, HttpSink) and view.address.host == "127.0.0.1"
    finally:
        close(sinks)


def test_any_output_replaces_the_default_live_view(state, tmp_path: Path) -> None:
    sinks = build_sinks(settings_for(events=str(tmp_path / "e.jsonl")), SinkContext(state, lambda: None))
    assert [type(s) for s in sinks] == [EventsSink]
    both = build_sinks(settings_for(events="-", http="127.0.0.1:0"), SinkContext(state, lambda: None))
    try:
        assert [type(s) for s in both] == [HttpSink, EventsSink]
    finally:
        close(both)


def test_the_default_view_moves_to_a_free_port_but_an_asked_for_one_never_does(
    state, busy_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("edge_app.settings.schema.DEFAULT_LIVE_VIEW", f"127.0.0.1:{busy_port}")
    sinks = build_sinks(settings_for(), SinkContext(state, lambda: None))
    try:
        view = sinks[0]
        assert isinstance(view, HttpSink) and view.port not in (0, busy_port)
    finally:
        close(sinks)
    with pytest.raises(EdgeAppError, match=f"port {busy_port} is in use"):
        build_sinks(settings_for(http=f"127.0.0.1:{busy_port}"), SinkContext(state, lambda: None))


def test_a_failing_output_releases_the_ones_built_before_it(state, tmp_path: Path) -> None:
    port = socket.socket()
    port.bind(("127.0.0.1", 0))
    number = port.getsockname()[1]
    port.close()
    with pytest.raises(EdgeAppError, match="unknown video type"):
        build_sinks(
            settings_for(http=f"127.0.0.1:{number}", record=str(tmp_path / "clip.mkv3")),
            SinkContext(state, lambda: None),
        )
    with socket.socket() as again:  # the live view's port was closed on the way out
        again.bind(("127.0.0.1", number))


def test_outputs_read_the_state_built_before_them(state) -> None:
    sinks = build_sinks(settings_for(http="127.0.0.1:0"), SinkContext(state, lambda: None))
    try:
        from tests.helpers.live_view import get_status

        view = sinks[0]
        assert isinstance(view, HttpSink)
        view.start(threading.Event())
        assert get_status(view.url)["model"]["name"] == "fake"
    finally:
        close(sinks)


def test_batch_mode_is_decided_once_and_only_for_files(caplog: pytest.LogCaptureFixture) -> None:
    assert batch_mode(settings_for(realtime=False), SyntheticSource()) is True
    assert batch_mode(settings_for(), SyntheticSource()) is False
    with caplog.at_level(logging.WARNING):
        assert batch_mode(settings_for(realtime=False), StreamSource("rtsp://127.0.0.1:9/x")) is False
    assert "applies to files" in caplog.text


def test_build_assembles_a_runnable_pipeline(model_cache: Path, tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    settings = settings_for(model=FAST_MODEL, source="synthetic", events=str(events), max_frames=12, realtime=False)
    running = build(settings, threading.Event(), Notifier(None))
    assert running.pipeline.options.batch and len(running.pipeline.parts.lanes) == max(1, os.cpu_count() or 1)
    assert running.pipeline.run() == 0
    assert [json.loads(line)["frame"] for line in events.read_text().splitlines()] == list(range(12))
    live = build(
        settings_for(model=FAST_MODEL, source="synthetic", events=str(events)), threading.Event(), Notifier(None)
    )
    assert not live.pipeline.options.batch and len(live.pipeline.parts.lanes) == 1


def _tops(events: Path) -> list[int]:
    lines = events.read_text().splitlines() if events.exists() else []
    return [len(json.loads(line)["top"]) for line in lines]


def test_sighup_rebuilds_in_place_and_a_bad_reload_keeps_the_running_configuration(
    model_cache: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    events = tmp_path / "events.jsonl"
    config = tmp_path / "config.toml"
    config.write_text(
        f'[model]\nmodel = "{FAST_MODEL}"\ntop_k = 1\n[source]\nsource = "synthetic"\nfps = '
        f'50\n[output]\nevents = "{events}"\n'
    )
    loop = RunLoop({}, config)
    outcome: dict[str, object] = {}

    def drive() -> None:
        try:
            assert wait_until(lambda: len(_tops(events)) > 3, timeout=30)
            config.write_text(config.read_text().replace("top_k = 1", "top_k = 2"))
            os.kill(os.getpid(), signal.SIGHUP)
            assert wait_until(lambda: _tops(events)[-1] == 2, timeout=30)
            good = config.read_text()
            for bad in (
                good.replace("top_k = 2", "top_kk = 3").encode(),
                ("# caméra\n" + good).encode("latin-1"),
                good.replace("top_k = 2", "threshold = nan").encode(),
            ):
                config.write_bytes(bad)
                os.kill(os.getpid(), signal.SIGHUP)

                def still_classifying(seen: int = len(_tops(events))) -> bool:
                    return len(_tops(events)) > seen + 10

                assert wait_until(still_classifying, timeout=30)
            outcome["last"] = _tops(events)[-1]
        except AssertionError as exc:
            outcome["error"] = exc
        finally:
            os.kill(os.getpid(), signal.SIGTERM)

    driver = threading.Thread(target=drive, daemon=True)
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGHUP, signal.SIGTERM)}
    with caplog.at_level(logging.INFO):
        driver.start()
        code = loop.run(resolve({}, config))
    driver.join(5)
    assert "error" not in outcome, outcome.get("error")
    assert code == 0 and outcome["last"] == 2
    assert "configuration reloaded" in caplog.text
    failures = [
        r.getMessage() for r in caplog.records if "reload failed, keeping the running configuration" in r.getMessage()
    ]
    assert len(failures) == 3 and "top_kk" in failures[0] and "not UTF-8" in failures[1] and "not nan" in failures[2]
    assert {signum: signal.getsignal(signum) for signum in handlers} == handlers  # the run's handlers are undone


def test_a_sighup_during_start_up_builds_again_and_a_sigterm_during_it_unwinds(
    model_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The phase a signal moves while the pipeline is built is kept: the reload is done, the stop
    ends the start-up, and the run's handlers are undone either way."""
    import edge_app.app as app

    config = tmp_path / "config.toml"
    config.write_text(f'[model]\nmodel = "{FAST_MODEL}"\n[source]\nsource = "synthetic"\nfps = 50\n')
    real_build, builds = app.build, list[int]()

    def build_under_signals(settings: Settings, stop: threading.Event, notifier: Notifier) -> app.Running:
        builds.append(len(builds))
        os.kill(os.getpid(), signal.SIGHUP if len(builds) == 1 else signal.SIGTERM)  # handled here, in the build
        return real_build(settings, stop, notifier)

    monkeypatch.setattr(app, "build", build_under_signals)
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGHUP, signal.SIGTERM)}
    with caplog.at_level(logging.INFO):
        code = RunLoop({}, config).run(resolve({}, config))
    assert code == 0 and builds == [0, 1]
    assert "SIGHUP: reloading the configuration" in caplog.text and "stopped before start-up finished" in caplog.text
    assert {signum: signal.getsignal(signum) for signum in handlers} == handlers


TAUGHT_BASE = MODELS / "mobilenet_v2_1.0_224_quant.tflite"


def taught_state_dir(state_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A state dir with a model taught on TAUGHT_BASE (two flower species, two photos each)."""
    from edge_app.model.classifier import Classifier, ModelOptions
    from edge_app.pipeline.model_slot import ModelSlot
    from edge_app.teach import teacher as teacher_module
    from edge_app.teach.models import choose
    from edge_app.teach.store import ExampleStore
    from tests.helpers.teach import photos, species

    monkeypatch.setattr(teacher_module, "LIVE_WAIT_S", 0.0)  # no pipeline publishes here
    store, options = ExampleStore(state_dir / "teach"), ModelOptions(model=str(TAUGHT_BASE), threads=1)
    chosen = choose([Classifier.open(options)], store, options, live=True)
    assert chosen.base is not None
    teacher = teacher_module.Teacher(store, ModelSlot(chosen.lanes[0]), chosen.base, chosen.taught)
    for name in species()[:2]:
        for photo in photos("train", name, 2):
            teacher.add_photo(name, photo.read_bytes())
    teacher.train()
    return state_dir


@pytest.mark.shared
@pytest.mark.parametrize("realtime", [True, False], ids=["real time", "batch"])
def test_a_start_with_a_taught_model_opens_only_the_model_that_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, realtime: bool
) -> None:
    """The model is decided before it is opened: with a model taught in the state dir, the base's
    interpreter is never made (real time: one interpreter, the taught model with its embedding;
    batch: one per lane, all of the taught model)."""
    from edge_app.model import classifier as classifier_module
    from edge_app.model.runtime import Runtime

    state_dir = taught_state_dir(tmp_path / "state", monkeypatch)
    opened: list[str] = []
    real = classifier_module.make_interpreter

    def counting(runtime: Runtime, path: Path | bytes, threads: int, delegate: object) -> object:
        opened.append("bytes" if isinstance(path, bytes) else Path(path).name)
        return real(runtime, path, threads, delegate)

    monkeypatch.setattr(classifier_module, "make_interpreter", counting)
    settings = settings_for(
        model=str(TAUGHT_BASE),
        source="synthetic" if realtime else str(IMAGES),
        state_dir=str(state_dir),
        realtime=realtime,
        events=str(tmp_path / "events.jsonl"),
    )
    running = build(settings, threading.Event(), Notifier(None))
    lanes = running.pipeline.parts.lanes
    assert running.pipeline.state.model["name"] == f"taught on {TAUGHT_BASE.stem}"
    assert opened == ["bytes"] * len(lanes) and len(lanes) == (1 if realtime else max(1, os.cpu_count() or 1))
