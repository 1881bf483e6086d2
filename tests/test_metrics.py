"""Prometheus /metrics: the families and their names, counters that grow, the inference
histogram, a registry per run, served by the live view, and clean under `promtool check metrics`."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

from edge_app.app import build
from edge_app.endpoints import Request
from edge_app.frames import Frame, Label, Result
from edge_app.metrics import METRICS, Metrics
from edge_app.service.notify import Notifier
from edge_app.settings import resolve
from edge_app.web.sink import HttpSink
from tests.helpers.fleet import promtool_check
from tests.helpers.live_view import MjpegViewer, get
from tests.helpers.pipeline_fakes import fake_state
from tests.helpers.waiting import wait_until

FAST_MODEL = "mobilenet_v1_0.25_128_quant"


def families(text: str) -> dict[str, Metric]:
    return {family.name: family for family in text_string_to_metric_families(text)}


def value(text: str, sample: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    raise KeyError(sample)


@pytest.fixture
def state():
    return fake_state()


def publish(state, n: int, ms: float = 4.0) -> None:
    for seq in range(n):
        state.counters.add("captured")
        state.publish(Result(seq, 0.0, 0.0, (Label(1, "a", 0.9),), ms))


def test_every_family_is_named_edge_app_and_counters_grow(state) -> None:
    metrics = Metrics(state)
    text = metrics.render()[0].decode()
    found = families(text)
    assert all(name.startswith("edge_app_") for name in found)
    for name, kind, _ in METRICS:
        if (
            not name.startswith(("mqtt_", "region_")) and name != "result_age_seconds"
        ):  # MQTT: only with --mqtt; regions: with regions (test_region_metrics); age: once a frame is shown
            text_kind = "gauge" if kind == "info" else kind  # the text format has no info type
            assert found[f"edge_app_{name}"].type == text_kind, name
    assert value(text, "edge_app_frames_classified_total") == 0
    assert value(text, "edge_app_info", model="fake", version=__import__("edge_app").__version__) == 1

    publish(state, 5, ms=4.0)
    state.counters.add("dropped_inference", 2)
    state.shown(Frame(np.zeros((2, 2, 3), np.uint8), 5), state.result, 1.0)
    later = metrics.render()[0].decode()
    assert value(later, "edge_app_frames_classified_total") == 5
    assert value(later, "edge_app_frames_captured_total") == 5
    assert value(later, "edge_app_frames_dropped_total", stage="inference") == 2
    assert value(later, "edge_app_inference_seconds_count") == 5
    assert value(later, "edge_app_inference_seconds_bucket", le="0.005") == 5
    assert value(later, "edge_app_inference_seconds_bucket", le="0.002") == 0
    assert value(later, "edge_app_inference_seconds_sum") == pytest.approx(0.02)
    assert "edge_app_result_age_seconds" in families(later)
    assert promtool_check(later).returncode == 0


def test_promtool_finds_nothing_to_lint(state) -> None:
    metrics = Metrics(state)
    publish(state, 3)
    checked = promtool_check(metrics.render()[0].decode())
    assert checked.returncode == 0 and checked.stdout == "" and checked.stderr == "", checked.stdout + checked.stderr


def test_each_run_has_its_own_registry(state) -> None:
    """A SIGHUP rebuild makes a second Metrics in the same process: no duplicate-name error, fresh counts."""
    first = Metrics(state)
    publish(state, 2)
    second = Metrics(fake_state())
    assert value(first.render()[0].decode(), "edge_app_inference_seconds_count") == 2
    assert value(second.render()[0].decode(), "edge_app_inference_seconds_count") == 0


def test_the_route_answers_prometheus_text_or_openmetrics(state) -> None:
    route = Metrics(state).route()
    assert (route.method, route.path) == ("GET", "/metrics")
    plain = route.handler(Request("GET", "/metrics", {}, {"Accept": "text/plain"}))
    assert plain.status == 200 and plain.content_type.startswith("text/plain; version=0.0.4")
    open_metrics = route.handler(
        Request("GET", "/metrics", {}, {"accept": "application/openmetrics-text; version=1.0.0"})
    )
    assert open_metrics.content_type.startswith("application/openmetrics-text") and open_metrics.body.endswith(
        b"# EOF\n"
    )


def test_the_live_view_serves_metrics_with_viewers_and_growing_counters(model_cache: Path) -> None:
    settings = resolve(
        {"model": FAST_MODEL, "source": "synthetic", "http": "127.0.0.1:0", "fps": 30.0}, None, environ={}
    )
    stop = threading.Event()
    running = build(settings, stop, Notifier(None))
    view = next(sink for sink in running.pipeline.parts.sinks if isinstance(sink, HttpSink))
    runner = threading.Thread(target=running.pipeline.run)
    runner.start()
    viewer = None
    try:
        assert wait_until(lambda: running.pipeline.state.counters["classified"] > 3, timeout=30)
        code, headers, body = get(view.url, "/metrics")
        assert code == 200 and headers["Content-Type"].startswith("text/plain")
        first = value(body.decode(), "edge_app_frames_classified_total")
        viewer = MjpegViewer(view.url)
        viewer.start()

        def scraped() -> str:
            return get(view.url, "/metrics")[2].decode()

        assert wait_until(lambda: value(scraped(), "edge_app_viewers") == 1, timeout=20)
        assert wait_until(lambda: value(scraped(), "edge_app_frames_classified_total") > first + 3, timeout=20)
        text = scraped()
        assert value(text, "edge_app_source_up") == 1
        assert value(text, "edge_app_fps", stream="video") > 0
        assert value(text, "edge_app_inference_seconds_count") >= first
        assert value(text, "edge_app_info", model=FAST_MODEL, runtime="litert") == 1
    finally:
        stop.set()
        runner.join(10)
        if viewer is not None:
            viewer.stop.set()
            viewer.join(5)
