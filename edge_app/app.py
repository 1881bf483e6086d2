"""The lifecycle of `edge-app run`: settings -> parts -> pipeline, under signals and systemd.

SIGINT/SIGTERM set the one stop event; SIGHUP re-reads the config file and rebuilds the
pipeline in place (an invalid new config is logged and the old one keeps running).
"""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from edge_app.errors import EdgeAppError
from edge_app.settings import Settings, resolve

log = logging.getLogger("edge_app")


@dataclass
class Parts:
    """Everything one run of the pipeline needs, built from settings before anything starts."""

    pipeline: Any
    watchdog: Any


def model_options(settings: Settings):  # -> ModelOptions
    from edge_app.model.classifier import ModelOptions

    return ModelOptions(
        model=settings.model,
        labels=Path(settings.labels) if settings.labels else None,
        runtime=settings.runtime,
        delegate=settings.delegate,
        device=settings.device,
        threads=settings.threads,
        resize=settings.resize,
        top_k=settings.top_k,
        threshold=settings.threshold,
    )


def source_spec(settings: Settings):  # -> SourceSpec
    from edge_app.sources.factory import SourceSpec

    return SourceSpec(
        camera=None if settings.source else settings.camera,
        backend=settings.backend,
        source=settings.source,
        resolution=settings.resolution_wh,
        fps=settings.fps,
    )


DEFAULT_LIVE_VIEW = "127.0.0.1:8080"


def _default_live_view(status: Any) -> Any:
    """With no output chosen, `edge-app run` still lets you watch: a local live view on
    port 8080, or on any free port when 8080 is taken (the log says which)."""
    from edge_app.sinks.http import HttpSink

    try:
        return HttpSink(DEFAULT_LIVE_VIEW, status=status)
    except EdgeAppError:
        return HttpSink("127.0.0.1:0", status=status)


def build_sinks(settings: Settings, status: Any, fps: Callable[[], float | None]) -> list:
    """Sinks are checked (paths, ports, GUI) here, before the model and camera are opened.
    `fps` is asked when recording starts: a file knows its rate only once open."""
    sinks: list = []
    try:
        if settings.http:
            from edge_app.sinks.http import HttpSink

            sinks.append(HttpSink(settings.http, status=status))
        elif not (settings.events or settings.record or settings.display):
            sinks.append(_default_live_view(status))
        if settings.events:
            from edge_app.sinks.events import EventsSink

            sinks.append(EventsSink(settings.events))
        if settings.record:
            from edge_app.sinks.recorder import RecorderSink

            sinks.append(RecorderSink(settings.record, fps))
        if settings.display:
            from edge_app.sinks.window import WindowSink

            sinks.append(WindowSink())
    except BaseException:
        close_all(sinks)
        raise
    return sinks


def close_all(sinks: list) -> None:
    """Release what sinks hold (e.g. the live view's port) when a run cannot start."""
    for sink in sinks:
        sink.close(0.5)


def build(settings: Settings, stop: threading.Event, notifier: Any) -> Parts:
    from edge_app.model.classifier import Classifier
    from edge_app.model.lanes import open_lanes
    from edge_app.pipeline import Pipeline, PipelineOptions
    from edge_app.pipeline.capture import CaptureOptions
    from edge_app.service.watchdog import Watchdog
    from edge_app.sources.factory import open_source

    holder: dict[str, Any] = {}
    source = open_source(source_spec(settings))
    sinks = build_sinks(settings, lambda: holder["pipeline"].state.status(), lambda: source.fps or settings.fps)
    realtime = settings.realtime
    if not realtime and source.live:
        log.warning("--no-realtime applies to files; %s is live, so it runs in real time", source.name)
        realtime = True
    try:
        # Batch mode runs several single-thread interpreters side by side; real time, one.
        lanes = [] if realtime else open_lanes(model_options(settings), warn=log.warning)
        classifier = lanes[0] if lanes else Classifier.open(model_options(settings), warn=log.warning)
    except BaseException:
        close_all(sinks)
        raise
    options = PipelineOptions(
        capture=CaptureOptions(
            realtime=realtime,
            rotate=settings.rotate,
            flip=settings.flip,
            max_frames=settings.max_frames,
            backoff_max_s=settings.reconnect_max,
        ),
        overlay=settings.overlay,
        smooth=settings.smooth,
        duration=settings.duration,
    )
    pipeline = Pipeline(source, classifier, sinks, options, stop, lanes)
    holder["pipeline"] = pipeline
    pipeline.on_first_result = lambda: _first_result(notifier, pipeline)
    watchdog = Watchdog(notifier, pipeline.heartbeats.values(), stop, pipeline.state.summary_line)
    info = classifier.info
    interpreters = f"{len(lanes)} interpreters x {info.threads} threads" if len(lanes) > 1 else f"{info.threads} threads"
    log.info("model %s on %s (%s %s, %s); source %s", info.name, info.delegate, info.runtime, info.runtime_version, interpreters, source.name)
    return Parts(pipeline, watchdog)


def _first_result(notifier: Any, pipeline: Any) -> None:
    result = pipeline.state.result
    best = f"{result.top[0].label} {result.top[0].score:.2f}" if result and result.top else "no label above the threshold"
    log.info("first frame classified in %.1f ms: %s", result.inference_ms if result else 0.0, best)
    notifier.ready(pipeline.state.summary_line())


class Runner:
    """Owns the signal handlers and rebuilds the pipeline on SIGHUP."""

    def __init__(self, cli_values: Mapping[str, Any], config: Path | None) -> None:
        from edge_app.service.notify import Notifier

        self.cli_values = cli_values
        self.config = config
        self.notifier = Notifier.from_env()
        self.stop = threading.Event()
        self._reload = False
        self._stopping = False

    # Signal handlers only set flags and the stop event; messages to systemd are sent from the
    # main loop, never from inside a handler that may have interrupted the notifier itself.
    def _on_stop(self, signum: int, _frame: object) -> None:
        self._stopping = True
        self.stop.set()

    def _on_reload(self, _signum: int, _frame: object) -> None:
        self._reload = True
        self.stop.set()

    def _stopped(self) -> None:
        """Called by the pipeline the moment its stop event fires, before it joins its threads."""
        if self._reload and not self._stopping:
            log.info("SIGHUP: reloading the configuration")
            self.notifier.reloading()
        else:
            log.info("stopping")
            self.notifier.stopping()

    def _install_signals(self) -> dict[int, Any]:
        """Our handlers, returning the previous ones (restored when run() ends)."""
        if threading.current_thread() is not threading.main_thread():
            return {}  # e.g. under a test runner thread: the caller owns stopping
        wanted = {signal.SIGTERM: self._on_stop, signal.SIGINT: self._on_stop}
        if hasattr(signal, "SIGHUP"):
            wanted[signal.SIGHUP] = self._on_reload
        return {signum: signal.signal(signum, handler) for signum, handler in wanted.items()}

    def run(self, settings: Settings) -> int:
        previous = self._install_signals()
        running = settings  # the last configuration that built: a bad reload falls back to it
        try:
            while True:
                try:
                    parts = build(settings, self.stop, self.notifier)
                except EdgeAppError as exc:
                    if settings is running:
                        raise
                    log.error("reload failed, keeping the running configuration: %s", exc)
                    settings = running
                    continue
                running = settings
                parts.pipeline.when_stopping(self._stopped)
                parts.watchdog.start()
                code = parts.pipeline.run()
                parts.watchdog.join(1.0)
                if not self._reload or self._stopping:
                    return code
                settings = self._reloaded(settings)
        finally:
            self.notifier.close()
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _reloaded(self, current: Settings) -> Settings:
        self._reload = False
        self.stop = threading.Event()  # a fresh one: a thread of the old pipeline still stuck in a driver stays stopped
        if self._stopping:  # SIGTERM came while we were switching events: honour it
            self.stop.set()
        try:
            settings = resolve(self.cli_values, self.config)
        except EdgeAppError as exc:
            log.error("reload failed, keeping the running configuration: %s", exc)
            return current
        from edge_app.service.journal import setup_logging

        setup_logging(settings.log_level)
        log.info("configuration reloaded from %s", settings.config_path or "defaults")
        return settings
