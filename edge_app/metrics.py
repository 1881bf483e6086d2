"""Prometheus metrics of one run, served as `/metrics` on the live view.

Built with prometheus_client on a registry of this run's own (a SIGHUP rebuild gets a fresh
one, never the process-global registry). Everything the pipeline already counts is read at
scrape time by a custom collector, so the hot path pays nothing for it; only the inference
histogram is observed per result (a bisect and an add).

Every name is in METRICS below (name, type, meaning), which the README's table follows.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Histogram, ProcessCollector, disable_created_metrics
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.exposition import choose_encoder

from edge_app import __version__
from edge_app.endpoints import Reply, Request, Route
from edge_app.frames import Result

if TYPE_CHECKING:
    from edge_app.pipeline.state import PipelineState
    from edge_app.regions.board import RegionBoard, RegionView
    from edge_app.sinks.base import Sink

disable_created_metrics()  # no *_created series: they only double what Prometheus tracks itself
PREFIX = "edge_app"
INFERENCE_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.5)

# (name without the prefix, type, meaning); counters are exposed with a _total suffix.
METRICS: tuple[tuple[str, str, str], ...] = (
    ("frames_captured", "counter", "Frames read from the source."),
    ("frames_classified", "counter", "Frames classified by the model."),
    ("frames_displayed", "counter", "Frames drawn and handed to the outputs."),
    ("frames_dropped", "counter", "Frames skipped because a newer one was ready, by stage (inference, display)."),
    ("inference_errors", "counter", "Inferences that failed."),
    ("source_reconnects", "counter", "Times the source was reopened after a failure."),
    ("mqtt_messages_sent", "counter", "MQTT messages the broker accepted (with --mqtt)."),
    (
        "mqtt_messages_dropped",
        "counter",
        "MQTT messages dropped: outbox full while the broker was away, or not sent (with --mqtt).",
    ),
    (
        "mqtt_connect_failures",
        "counter",
        "Connection attempts the MQTT broker did not answer: rising while it is unreachable (with --mqtt).",
    ),
    ("inference_seconds", "histogram", "Time of one inference (preprocessing and invoke)."),
    ("fps", "gauge", "Frames per second over the last 2 s, by stream (video, inference)."),
    ("result_age_seconds", "gauge", "Age of the label on the newest displayed frame."),
    ("viewers", "gauge", "Browsers watching the live video."),
    ("source_up", "gauge", "1 while frames arrive from the source, else 0."),
    ("mqtt_connected", "gauge", "1 while connected to the MQTT broker, else 0 (with --mqtt)."),
    ("info", "info", "The model, runtime, delegate and edge-app version (value 1)."),
    ("region_runs", "counter", "Times a region was classified, by camera and region."),
    ("region_state_changes", "counter", "Verified state changes of a region, by camera and region."),
    ("region_state", "gauge", "1 for a region's verified state, by camera, region and state."),
    ("region_inference_seconds", "histogram", "Time of one inference of a region's crop, by camera and region."),
)
HELP = {name: meaning for name, _, meaning in METRICS}


def _one(kind: type, name: str, value: float) -> Metric:
    return kind(f"{PREFIX}_{name}", HELP[name], value=value)


def _by(kind: type, name: str, label: str, values: dict[str, float]) -> Metric:
    family = kind(f"{PREFIX}_{name}", HELP[name], labels=[label])
    for key, value in values.items():
        family.add_metric([key], value)
    return family


class PipelineCollector:
    """Reads the pipeline's state (and the outputs' own counts) each time Prometheus scrapes."""

    def __init__(self, state: PipelineState) -> None:
        self.state = state
        self.sinks: Sequence[Sink] = ()

    def collect(self) -> Iterator[Metric]:
        state = self.state
        counts = state.counters.snapshot()
        yield _one(CounterMetricFamily, "frames_captured", counts["captured"])
        yield _one(CounterMetricFamily, "frames_classified", counts["classified"])
        yield _one(CounterMetricFamily, "frames_displayed", counts["displayed"])
        yield _by(
            CounterMetricFamily,
            "frames_dropped",
            "stage",
            {"inference": counts["dropped_inference"], "display": counts["dropped_display"]},
        )
        yield _one(CounterMetricFamily, "inference_errors", counts["inference_errors"])
        yield _one(CounterMetricFamily, "source_reconnects", state.health.reconnects)
        yield _by(
            GaugeMetricFamily,
            "fps",
            "stream",
            {"video": state.video_rate.rate(), "inference": state.inference_rate.rate()},
        )
        age = state.result_age_ms.last()
        if age is not None:
            yield _one(GaugeMetricFamily, "result_age_seconds", age / 1000.0)
        yield _one(GaugeMetricFamily, "viewers", self._viewers())
        yield _one(GaugeMetricFamily, "source_up", 1.0 if state.health.connected else 0.0)
        yield from self._mqtt()
        model = state.model
        yield InfoMetricFamily(
            f"{PREFIX}",
            HELP["info"],
            value={
                "model": str(model.get("name", "")),
                "runtime": str(model.get("runtime", "")),
                "delegate": str(model.get("delegate", "")),
                "version": __version__,
            },
        )

    def _viewers(self) -> int:
        return sum(int(sink.stats().get("viewers", 0)) for sink in self.sinks)

    def _mqtt(self) -> Iterable[Metric]:
        from edge_app.sinks.mqtt import MqttSink

        for sink in self.sinks:
            if isinstance(sink, MqttSink):
                stats = sink.stats()
                yield _one(CounterMetricFamily, "mqtt_messages_sent", stats["sent"])
                yield _one(CounterMetricFamily, "mqtt_messages_dropped", stats["dropped"])
                yield _one(CounterMetricFamily, "mqtt_connect_failures", stats["connect_failures"])
                yield _one(GaugeMetricFamily, "mqtt_connected", 1.0 if stats["connected"] else 0.0)
                return


class RegionCollector:
    """Per-region counts, read from the live board at scrape time."""

    def __init__(self, board: RegionBoard) -> None:
        self.board = board

    def collect(self) -> Iterator[Metric]:
        views = self.board.views()
        labels = ["camera", "region"]
        runs = CounterMetricFamily(f"{PREFIX}_region_runs", HELP["region_runs"], labels=labels)
        changes = CounterMetricFamily(f"{PREFIX}_region_state_changes", HELP["region_state_changes"], labels=labels)
        state = GaugeMetricFamily(f"{PREFIX}_region_state", HELP["region_state"], labels=[*labels, "state"])
        for view in views:
            runs.add_metric([view.camera, view.name], view.runs)
            changes.add_metric([view.camera, view.name], view.changes)
            if view.state is not None:
                state.add_metric([view.camera, view.name, view.state], 1.0)
        yield from (runs, changes, state)


class Metrics:
    """One run's registry: the collector, the inference histogram, process facts; and the route."""

    def __init__(self, state: PipelineState) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.collector = PipelineCollector(state)
        self.registry.register(self.collector)
        self.inference = Histogram(
            f"{PREFIX}_inference_seconds", HELP["inference_seconds"], buckets=INFERENCE_BUCKETS, registry=self.registry
        )
        ProcessCollector(namespace=PREFIX, registry=self.registry)  # CPU seconds, memory, open files, start time
        state.on_publish(self.observe)

    def observe(self, result: Result) -> None:
        self.inference.observe(result.inference_ms / 1000.0)

    def watch_regions(self, board: RegionBoard) -> None:
        """Per-region runs, state changes and inference time, from the board of this run."""
        self.registry.register(RegionCollector(board))
        self.region_inference = Histogram(
            f"{PREFIX}_region_inference_seconds",
            HELP["region_inference_seconds"],
            ["camera", "region"],
            buckets=INFERENCE_BUCKETS,
            registry=self.registry,
        )
        board.on_change(self._region_result)

    def _region_result(self, view: RegionView, what: str) -> None:
        if what == "result" and view.last_ms is not None:
            self.region_inference.labels(view.camera, view.name).observe(view.last_ms / 1000.0)

    def watch(self, sinks: Sequence[Sink]) -> None:
        """The run's outputs, once built: viewers and MQTT counts are read from them."""
        self.collector.sinks = tuple(sinks)

    def render(self, accept: str = "") -> tuple[bytes, str]:
        """The exposition, in the format the scraper asks for (Prometheus text, or OpenMetrics)."""
        encoder, content_type = choose_encoder(accept)
        return encoder(self.registry), content_type

    def route(self) -> Route:
        return Route("GET", "/metrics", self._handle)

    def _handle(self, request: Request) -> Reply:
        body, content_type = self.render(request.header("Accept") or "")
        return Reply(200, body, content_type)
