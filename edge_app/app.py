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
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edge_app.errors import EdgeAppError
from edge_app.lifecycle import Event as LifeEvent
from edge_app.lifecycle import Phase, after, unwinds
from edge_app.settings import Settings, resolve
from edge_app.words import plural

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from edge_app.bus import Bus
    from edge_app.frames import Frame, Result
    from edge_app.model.classifier import Classifier
    from edge_app.pipeline import Pipeline, PipelineOptions
    from edge_app.pipeline.model_slot import ModelSlot
    from edge_app.pipeline.state import PipelineState
    from edge_app.service.notify import Notifier
    from edge_app.service.watchdog import Watchdog
    from edge_app.sink import Sink
    from edge_app.sources.base import Source
    from edge_app.teach.models import Candidate
    from edge_app.teach.setup import TeachOptions

log = logging.getLogger("edge_app")
HANDLED = {signal.SIGTERM, signal.SIGINT, *([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])}


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
    if settings.camera.source.realtime:
        return False
    if source.live:
        log.warning("--no-realtime applies to files; %s is live, so it runs in real time", source.name)
        return False
    return True


def loop_mode(settings: Settings, source: Source, batch: bool) -> bool:
    """--loop starts a file or folder over at its end; a batch run must end, so not with --no-realtime."""
    if not settings.camera.source.loop:
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


def base_model(settings: Settings, batch: bool) -> Candidate:
    """The first camera's model, resolved (downloaded, its delegate chosen) but not opened: teaching
    decides what runs, and only that is opened. Batch mode runs several single-thread interpreters
    side by side; real time, one."""
    from edge_app.model.classifier import Classifier, plan
    from edge_app.model.lanes import shape, side_by_side
    from edge_app.teach.models import Candidate

    options = settings.camera.model.options
    lanes, threads = shape(options) if batch else (1, options.threads)
    planned = plan(replace(options, threads=threads), warn=log.warning)

    def open_base() -> list[Classifier]:
        return side_by_side(Classifier.from_plan(planned, warn=log.warning), lanes)

    return Candidate(planned.name, planned.path, planned.delegate_name, planned.threads, lanes, open_base)


def pipeline_options(settings: Settings, batch: bool, loop: bool = False) -> PipelineOptions:
    from edge_app.pipeline import PipelineOptions
    from edge_app.pipeline.capture import CaptureOptions

    return PipelineOptions(
        capture=CaptureOptions(
            realtime=not batch,
            loop=loop,
            rotate=settings.camera.source.rotate,
            flip=settings.camera.source.flip,
            max_frames=settings.output.max_frames,
            backoff_max_s=settings.service.reconnect_max,
        ),
        overlay=settings.output.overlay,
        smooth=settings.output.smooth,
        duration=settings.output.duration,
    )


def model_summary(classifier: Classifier) -> dict[str, object]:
    info = classifier.info
    return {"name": info.name, "delegate": info.delegate, "runtime": info.runtime}


def teach_options(settings: Settings) -> TeachOptions:
    from edge_app.teach.setup import TeachOptions

    return TeachOptions(settings.model.teach, settings.state_path, settings.camera.model.options)


def build_state(source: Source, model: Classifier | ModelSlot) -> PipelineState:
    """The run's state; its model is the slot's current one (a bare classifier: that one)."""
    from edge_app.pipeline.capture import SourceHealth
    from edge_app.pipeline.model_slot import ModelSlot
    from edge_app.pipeline.state import PipelineState

    slot = model if isinstance(model, ModelSlot) else ModelSlot(model)
    return PipelineState(SourceHealth(source.name), lambda: model_summary(slot.current))


def build(settings: Settings, stop: threading.Event, notifier: Notifier) -> Running:
    from edge_app.events.output import attach as attach_events
    from edge_app.metrics import Metrics
    from edge_app.pipeline import Hooks, Parts, Pipeline
    from edge_app.runtime.setup import setup as setup_runtime
    from edge_app.service.watchdog import Watchdog
    from edge_app.sinks.registry import SinkContext, build_sinks
    from edge_app.sources.factory import open_source
    from edge_app.sources.spec import memory_warning
    from edge_app.teach.setup import setup as setup_teaching

    if warning := memory_warning(settings.camera.source_spec.resolution):
        log.warning("%s", warning)
    source = open_source(settings.camera.source_spec)
    batch = batch_mode(settings, source)
    loop = loop_mode(settings, source, batch)
    teaching = setup_teaching(teach_options(settings), base_model(settings, batch), batch)  # maybe taught
    lanes = teaching.lanes
    state = build_state(source, teaching.slot)
    metrics = Metrics(state)  # a registry per build: a SIGHUP rebuild starts a fresh one
    options = pipeline_options(settings, batch, loop)
    runtime = setup_runtime(settings, teaching.slot, teaching, stop, options.capture, batch)
    state.add_section("regions", runtime.board.status)
    state.add_section(
        "cameras", lambda: {settings.camera.name: {"source": state.health.snapshot()}, **runtime.shared.status()}
    )
    metrics.watch_regions(runtime.board)

    def source_fps() -> float | None:
        return source.fps or settings.camera.source.fps

    sinks = build_sinks(
        settings,
        SinkContext(
            state,
            source_fps,
            routes=(metrics.route(), *runtime.routes),
            state_dir=settings.state_path,
            camera=settings.camera.name,
            regions=runtime.board,
            cameras=tuple(camera.name for camera in settings.cameras),
        ),
    )
    subscribe(runtime.bus, sinks)
    metrics.watch(sinks)
    events = attach_events(runtime.events, runtime.bus, settings.camera.name, sinks, source_fps)  # clips, HA
    hooks = Hooks(
        on_first_result=lambda result: _first_result(notifier, state, result),
        on_classified=_both(teaching.observe, runtime.classified),
        on_frame=runtime.on_frame,
        marks=partial(runtime.board.marks, settings.camera.name),
    )
    outputs = [*sinks, runtime.shared, *([events] if events is not None else [])]
    pipeline = Pipeline(Parts(source, lanes, outputs, state, teaching.slot), options, stop, hooks)
    heartbeats = [*pipeline.heartbeats.values(), *runtime.shared.heartbeats]
    watchdog = Watchdog(notifier, heartbeats, stop, state.summary_line)
    _log_start(lanes, source)
    return Running(pipeline, watchdog)


def _both(
    first: Callable[[Frame, Result], None] | None, second: Callable[[Frame, Result], None]
) -> Callable[[Frame, Result], None]:
    if first is None:
        return second

    def both(frame: Frame, result: Result) -> None:
        first(frame, result)
        second(frame, result)

    return both


def subscribe(bus: Bus, sinks: Sequence[Sink]) -> None:
    """Outputs that take bus events (regions, further cameras) hear them on their own thread; the
    live view, with several cameras, also the further cameras' pictures (the newest two queued)."""
    from edge_app.bus import Classified, FrameShown, StateChanged

    for sink in sinks:
        handle = getattr(sink, "handle", None)
        if callable(handle):
            bus.subscribe(type(sink).__name__, handle, (Classified, StateChanged))
        shown = getattr(sink, "shown", None)
        if callable(shown) and getattr(sink, "shows_cameras", False):
            bus.subscribe(f"{type(sink).__name__}-pictures", shown, (FrameShown,), maxsize=2)


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


@contextmanager
def _signals_held() -> Iterator[None]:
    """Signals wait while the loop moves its phase, so a handler never sees, or undoes, half a move.
    (A signal already caught runs its handler as it is blocked, before the move reads the phase.)"""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, HANDLED)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class RunLoop:
    """Owns the signal handlers and rebuilds the pipeline on SIGHUP; where it is, is one Phase
    (edge_app/lifecycle.py), moved by the handlers and by the loop."""

    def __init__(self, cli_values: Mapping[str, Any], config: Path | None, regions: tuple[str, ...] = ()) -> None:
        from edge_app.service.notify import Notifier

        self.cli_values = cli_values
        self.config = config
        self.regions = regions  # --region flags
        self.notifier = Notifier.from_env()
        self.stop = threading.Event()
        self.phase = Phase.STARTING
        self._installed = False  # our signal handlers are in place (by main(), or by run())

    def _move(self, event: LifeEvent) -> None:
        with _signals_held():
            self.phase = after(self.phase, event)

    # Signal handlers only move the phase and set the stop event (and, during start-up, unwind it);
    # messages to systemd are sent from the main loop, never from inside a handler that may have
    # interrupted the notifier itself.
    def _on_stop(self, signum: int, _frame: object) -> None:
        unwind = unwinds(self.phase, LifeEvent.STOP)
        self.phase = after(self.phase, LifeEvent.STOP)
        self.stop.set()
        if unwind:
            raise StartupStopped()

    def _on_reload(self, _signum: int, _frame: object) -> None:
        self.phase = after(self.phase, LifeEvent.RELOAD)
        self.stop.set()

    def _stopped(self, pipeline: Pipeline) -> None:
        """Called by the pipeline the moment its stop event fires, before it joins its threads."""
        if self.phase is Phase.RELOADING:
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

        previous = self._install_signals()
        try:
            settings = resolve(self.cli_values, self.config, regions=self.regions)
            setup_logging(settings.service.log_level)
            return self.run(settings)
        except StartupStopped:
            log.info("stopped before start-up finished")
            return 0
        finally:
            self._move(LifeEvent.ENDED)
            self._restore_signals(previous)

    def run(self, settings: Settings) -> int:
        previous = self._install_signals()
        good = settings  # the last configuration that built: a bad reload falls back to it
        try:
            while True:
                try:
                    running = self._built(settings, fallback=settings is not good)
                    if running is None:
                        settings = good
                        continue
                    good = settings
                    running.pipeline.when_stopping(partial(self._stopped, running.pipeline))
                    running.watchdog.start()
                    code = running.pipeline.run()
                    running.watchdog.join(1.0)
                    if self.phase is not Phase.RELOADING:
                        return code
                    settings = self._reloaded(settings)
                except StartupStopped:
                    log.info("stopped before start-up finished")
                    return 0
        finally:
            self._move(LifeEvent.ENDED)
            self.notifier.close()
            self._restore_signals(previous)

    def _built(self, settings: Settings, fallback: bool) -> Running | None:
        """The run built from `settings`; None when a reloaded configuration did not build (said in
        one line: the running configuration is built again)."""
        if self.phase is Phase.STOPPING:
            raise StartupStopped()
        try:
            running = build(settings, self.stop, self.notifier)
        except Exception as exc:  # a bad reload, whatever it is, never stops a running service
            if not fallback:
                raise
            log.error("reload failed, keeping the running configuration: %s", exc)
            return None
        self._move(LifeEvent.BUILT)
        return running

    def _reloaded(self, current: Settings) -> Settings:
        with _signals_held():
            self.phase = after(self.phase, LifeEvent.REBUILD)
            # a fresh stop event: a thread of the old pipeline still stuck in a driver stays stopped
            self.stop = threading.Event()
            if self.phase is Phase.STOPPING:  # SIGTERM came while the old pipeline stopped: honour it
                self.stop.set()
        try:
            settings = resolve(
                self.cli_values, self.config, warn=None, regions=self.regions
            )  # unknown variables were named at start
        except Exception as exc:  # EdgeAppError, or anything a broken file may cause: the service goes on
            log.error("reload failed, keeping the running configuration: %s", exc)
            return current
        from edge_app.service.journal import setup_logging

        setup_logging(settings.service.log_level)
        log.info("configuration reloaded from %s", settings.config_path or "defaults")
        return settings
