"""The phases of `edge-app run` as pure logic: every move RunLoop's handlers and loop make."""

from __future__ import annotations

import pytest

from edge_app.lifecycle import Event, Phase, after, unwinds


def walk(*events: Event) -> list[Phase]:
    phase, seen = Phase.STARTING, []
    for event in events:
        phase = after(phase, event)
        seen.append(phase)
    return seen


def test_a_run_starts_runs_and_stops() -> None:
    assert walk(Event.BUILT, Event.STOP) == [Phase.RUNNING, Phase.STOPPING]


def test_a_reload_rebuilds_and_runs_again() -> None:
    assert walk(Event.BUILT, Event.RELOAD, Event.REBUILD, Event.BUILT) == [
        Phase.RUNNING,
        Phase.RELOADING,
        Phase.STARTING,
        Phase.RUNNING,
    ]


def test_a_reload_during_a_build_is_kept_so_the_new_pipeline_is_built_again() -> None:
    assert walk(Event.RELOAD, Event.BUILT) == [Phase.RELOADING, Phase.RELOADING]
    assert walk(Event.BUILT, Event.RELOAD, Event.REBUILD, Event.RELOAD, Event.BUILT)[-1] is Phase.RELOADING


def test_a_bad_reload_builds_the_running_configuration_again_still_starting() -> None:
    assert after(Phase.STARTING, Event.REBUILD) is Phase.STARTING


@pytest.mark.parametrize("phase", list(Phase))
def test_a_stop_or_the_end_always_wins_and_nothing_leaves_stopping(phase: Phase) -> None:
    assert after(phase, Event.STOP) is Phase.STOPPING
    assert after(phase, Event.ENDED) is Phase.STOPPING
    assert all(after(Phase.STOPPING, event) is Phase.STOPPING for event in Event)


@pytest.mark.parametrize("phase", list(Phase))
def test_only_a_stop_while_starting_unwinds(phase: Phase) -> None:
    assert unwinds(phase, Event.STOP) is (phase is Phase.STARTING)
    assert not any(unwinds(phase, event) for event in Event if event is not Event.STOP)


def test_a_move_the_loop_never_makes_is_a_bug() -> None:
    with pytest.raises(ValueError, match="built while running"):
        after(Phase.RUNNING, Event.BUILT)
    with pytest.raises(ValueError, match="rebuild while running"):
        after(Phase.RUNNING, Event.REBUILD)
