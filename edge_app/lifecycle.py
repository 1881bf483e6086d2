"""The phases of `edge-app run` and what moves it between them, as pure data.

    STARTING --built--> RUNNING --reload--> RELOADING --rebuild--> STARTING
        any phase --stop (or the run's end)--> STOPPING, which nothing leaves

A reload while starting makes the new pipeline end at once and be built again; a stop while
starting unwinds the start-up (`unwinds`). RunLoop's signal handlers only move the phase (and set
the stop event); its loop reads the phase to decide what comes next.
"""

from __future__ import annotations

from enum import Enum


class Phase(Enum):
    STARTING = "starting"  # reading the settings, building the pipeline
    RUNNING = "running"
    RELOADING = "reloading"  # SIGHUP: the pipeline stops to be built again from the config file
    STOPPING = "stopping"  # SIGINT/SIGTERM, or the run is over: nothing is built again


class Event(Enum):
    STOP = "stop"
    RELOAD = "reload"
    BUILT = "built"  # the pipeline is built and about to run
    REBUILD = "rebuild"  # the reloaded settings are read: build again
    ENDED = "ended"  # the run returned


_MOVES: dict[tuple[Phase, Event], Phase] = {
    (Phase.STARTING, Event.BUILT): Phase.RUNNING,
    (Phase.STARTING, Event.REBUILD): Phase.STARTING,
    (Phase.STARTING, Event.RELOAD): Phase.RELOADING,
    (Phase.RUNNING, Event.RELOAD): Phase.RELOADING,
    (Phase.RELOADING, Event.RELOAD): Phase.RELOADING,
    (Phase.RELOADING, Event.BUILT): Phase.RELOADING,  # a SIGHUP during the build: run, end at once, rebuild
    (Phase.RELOADING, Event.REBUILD): Phase.STARTING,
}


def after(phase: Phase, event: Event) -> Phase:
    """The phase `event` moves `phase` to; a move the loop never makes is a bug (ValueError)."""
    if phase is Phase.STOPPING or event in (Event.STOP, Event.ENDED):
        return Phase.STOPPING
    try:
        return _MOVES[(phase, event)]
    except KeyError:
        raise ValueError(f"{event.value} while {phase.value}") from None


def unwinds(phase: Phase, event: Event) -> bool:
    """A stop while starting interrupts whatever start-up is blocked in (a download, a camera)."""
    return phase is Phase.STARTING and event is Event.STOP
