"""The lifecycle of `edge-app run`: settings -> parts -> pipeline, under signals and systemd.

Assembly runs one way: the source (constructed, not opened), the model, the state, then the
outputs that read the state, then the pipeline that runs them all. SIGINT/SIGTERM set the one
stop event; SIGHUP re-reads the config file and rebuilds the pipeline in place (an invalid new
config is logged and the old one keeps running). The handlers are installed before anything
else of `run` happens: a stop during start-up (settings, a model download, a camera) unwinds it
and exits 0, as a stop while running does.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edge_app.errors import EdgeAppError
from edge_app.settings import Settings, resolve
from edge_app.words import plural

if TYPE_CHECKING:
    from edge_app.frames import Result
    from edge_app.model.classifier import Classifier
    from edge_app.pipeline import Pipeline, PipelineOptions
    from edge_app.pipeline.state import PipelineState
    from edge_app.service.notify import Notifier
    from edge_app.service.watchdog import Watchdog
    from edge_app.sources.base import Source

log = logging.getLogger("edge_app")


class StartupStopped(BaseException):
    """Raised by a stop signal while the run is still starting, to unwind whatever blocks it.
    A BaseException, so that no `except Exception` on the way swallows it."""


@dataclass
class Running:
    """One build of the run: the pipeline and the watchdog that reports on it."""

    pipeline: Pipeline
    watchdog: Watchdog


def batch_mode(settings: Settings, source: Source) -> bool:
    """Decided here, once: every frame in order (files with --no-realtime), else the newest frame."""
    if settings.realtime:
        return False
    if source.live:
        log.warning("--no-realtime applies to files; %s is live, so it runs in real time", source.name)
        return False
    return True


def loop_mode(settings: Settings, source: Source, batch: bool) -> bool:
    """--loop starts a file or folder over at its end; a batch run must end, so not with --no-realtime."""
    if not settings.loop:
        return False
    if batch:
        raise EdgeAppError(
            "--loop and --no-realtime together would classify the same frames forever",
            "use --loop for a demo that runs on, or --no-realtime for one pass as fast as possible",
        )
    if source.live:
        log.warning("--loop applies to files and folders; %s is live and never ends anyway", source.name)
        return False
    return True


def open_lanes(settings: Settings, batch: bool) -> list[Classifier]:
    """Batch mode runs several single-thread interpreters side by side; real time, one."""
    from edge_app.model.classifier import Classifier
    from edge_app.model.lanes import open_lanes as lanes

    options = settings.model_options
    return lanes(options, warn=log.warning) if batch else [Classifier.open(options, warn=log.warning)]


def pipeline_options(settings: Settings, batch: bool, loop: bool = False) -> PipelineOptions:
    from edge_app.pipeline import PipelineOptions
    from edge_app.pipeline.capture import CaptureOptions

    return PipelineOptions(
        capture=CaptureOptions(
            realtime=not batch,
            loop=loop,
            rotate=settings.rotate,
            flip=settings.flip,
            max_frames=settings.max_frames,
            backoff_max_s=settings.reconnect_max,
        ),
        overlay=settings.overlay,
        smooth=settings.smooth,
        duration=settings.duration,
    )


def model_summary(classifier: Classifier) -> dict[str, object]:
    info = classifier.info
    return {"name": info.name, "delegate": info.delegate, "runtime": info.runtime}


def build_state(source: Source, classifier: Classifier) -> PipelineState:
    from edge_app.pipeline.capture import SourceHealth
    from edge_app.pipeline.state import PipelineState

    return PipelineState(SourceHealth(source.name), model_summary(classifier))


def build(settings: Settings, stop: threading.Event, notifier: Notifier) -> Running:
    from edge_app.metrics import Metrics
    from edge_app.pipeline import Hooks, Parts, Pipeline
    from edge_app.service.watchdog import Watchdog
    from edge_app.sinks.registry import SinkContext, build_sinks
    from edge_app.sources.factory import open_source
    from edge_app.sources.spec import memory_warning
    from edge_app.teach.setup import setup as setup_teaching

    if warning := memory_warning(settings.source_spec.resolution):
        log.warning("%s", warning)
    source = open_source(settings.source_spec)
    batch = batch_mode(settings, source)
    loop = loop_mode(settings, source, batch)
    teaching = setup_teaching(settings, open_lanes(settings, batch), batch)  # the taught model, when there is one
    lanes = teaching.lanes
    state = build_state(source, lanes[0])
    teaching.slot.on_swap(lambda classifier: state.use_model(model_summary(classifier)))
    metrics = Metrics(state)  # a registry per build: a SIGHUP rebuild starts a fresh one
    sinks = build_sinks(settings, SinkContext(state, lambda: source.fps, routes=(metrics.route(), *teaching.routes)))
    metrics.watch(sinks)
    options = pipeline_options(settings, batch, loop)
    hooks = Hooks(on_first_result=lambda result: _first_result(notifier, state, result), on_classified=teaching.observe)
    pipeline = Pipeline(Parts(source, lanes, sinks, state, teaching.slot), options, stop, hooks)
    watchdog = Watchdog(notifier, pipeline.heartbeats.values(), stop, state.summary_line)
    _log_start(lanes, source)
    return Running(pipeline, watchdog)


def _log_start(lanes: list[Classifier], source: Source) -> None:
    info = lanes[0].info
    threads = plural(info.threads, "thread")
    interpreters = f"{len(lanes)} interpreters x {threads} each" if len(lanes) > 1 else threads
    log.info(
        "model %s on %s (%s %s, %s); source %s",
        info.name,
        info.delegate,
        info.runtime,
        info.runtime_version,
        interpreters,
        source.name,
    )


def _first_result(notifier: Notifier, state: PipelineState, result: Result) -> None:
    best = f"{result.top[0].label} {result.top[0].score:.2f}" if result.top else "no label above the threshold"
    log.info("first frame classified in %.1f ms: %s", result.inference_ms, best)
    notifier.ready(state.summary_line())


class RunLoop:
    """Owns the signal handlers and rebuilds the pipeline on SIGHUP."""

    def __init__(self, cli_values: Mapping[str, Any], config: Path | None) -> None:
        from edge_app.service.notify import Notifier

        self.cli_values = cli_values
        self.config = config
        self.notifier = Notifier.from_env()
        self.stop = threading.Event()
        self._reload = False
        self._stopping = False
        self._starting = False  # a stop signal now raises StartupStopped
        self._installed = False

    # Signal handlers only set flags and the stop event (and, during start-up, unwind it); messages
    # to systemd are sent from the main loop, never from inside a handler that may have
    # interrupted the notifier itself.
    def _on_stop(self, signum: int, _frame: object) -> None:
        self._stopping = True
        self.stop.set()
        if self._starting:
            self._starting = False
            raise StartupStopped()

    def _on_reload(self, _signum: int, _frame: object) -> None:
        self._reload = True
        self.stop.set()

    def _stopped(self, pipeline: Pipeline) -> None:
        """Called by the pipeline the moment its stop event fires, before it joins its threads."""
        if self._reload and not self._stopping:
            log.info("SIGHUP: reloading the configuration")
            self.notifier.reloading()
        else:
            if not pipeline.ended:  # a run that ended by itself says so with its totals instead
                log.info("stopping")
            self.notifier.stopping()

    def _install_signals(self) -> dict[int, Any]:
        """Our handlers, returning the previous ones (restored when run() ends)."""
        if self._installed or threading.current_thread() is not threading.main_thread():
            return {}  # installed by main() already, or under a test runner thread: the caller owns stopping
        wanted: dict[int, Callable[[int, Any], None]] = {signal.SIGTERM: self._on_stop, signal.SIGINT: self._on_stop}
        if hasattr(signal, "SIGHUP"):
            wanted[signal.SIGHUP] = self._on_reload
        self._installed = True
        return {signum: signal.signal(signum, handler) for signum, handler in wanted.items()}

    def _restore_signals(self, previous: dict[int, Any]) -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if previous:
            self._installed = False

    def main(self) -> int:
        """`edge-app run`: signals first, then settings and logging, then the run."""
        from edge_app.service.journal import setup_logging

        self._starting = True
        previous = self._install_signals()
        try:
            settings = resolve(self.cli_values, self.config)
            setup_logging(settings.log_level)
            return self.run(settings)
        except StartupStopped:
            log.info("stopped before start-up finished")
            return 0
        finally:
            self._starting = False
            self._restore_signals(previous)

    def run(self, settings: Settings) -> int:
        previous = self._install_signals()
        running = settings  # the last configuration that built: a bad reload falls back to it
        try:
            while True:
                self._starting = True
                try:
                    if self._stopping:
                        raise StartupStopped()
                    parts = build(settings, self.stop, self.notifier)
                except StartupStopped:
                    log.info("stopped before start-up finished")
                    return 0
                except Exception as exc:  # a bad reload, whatever it is, never stops a running service
                    if settings is running:
                        raise
                    log.error("reload failed, keeping the running configuration: %s", exc)
                    settings = running
                    continue
                finally:
                    self._starting = False
                running = settings
                parts.pipeline.when_stopping(partial(self._stopped, parts.pipeline))
                parts.watchdog.start()
                code = parts.pipeline.run()
                parts.watchdog.join(1.0)
                if not self._reload or self._stopping:
                    return code
                settings = self._reloaded(settings)
        finally:
            self.notifier.close()
            self._restore_signals(previous)

    def _reloaded(self, current: Settings) -> Settings:
        self._reload = False
        self.stop = threading.Event()  # a fresh one: a thread of the old pipeline still stuck in a driver stays stopped
        if self._stopping:  # SIGTERM came while we were switching events: honour it
            self.stop.set()
        try:
            settings = resolve(self.cli_values, self.config, warn=None)  # unknown variables were named at start
        except Exception as exc:  # EdgeAppError, or anything a broken file may cause: the service goes on
            log.error("reload failed, keeping the running configuration: %s", exc)
            return current
        from edge_app.service.journal import setup_logging

        setup_logging(settings.log_level)
        log.info("configuration reloaded from %s", settings.config_path or "defaults")
        return settings
