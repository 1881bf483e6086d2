"""Verified states: `confirm` results in a row above the threshold, or no change."""

from __future__ import annotations

import pytest

from edge_app.regions.confirm import Confirmer, Transition


def feed(confirmer: Confirmer, results: list[tuple[str, float]]) -> list[Transition | None]:
    return [confirmer.observe(label, score) for label, score in results]


def test_the_first_state_needs_confirm_results_too() -> None:
    confirmer = Confirmer(3, 0.8)
    assert confirmer.state is None and not confirmer.pending
    assert feed(confirmer, [("open", 0.9), ("open", 0.95)]) == [None, None]
    assert confirmer.pending and confirmer.state is None
    assert confirmer.observe("open", 0.85) == Transition("open", None, 0.85)
    assert confirmer.state == "open" and not confirmer.pending


def test_a_change_after_confirm_in_a_row() -> None:
    confirmer = Confirmer(3, 0.8, state="closed")
    out = feed(confirmer, [("open", 0.9), ("open", 0.9), ("open", 0.99), ("open", 0.99)])
    assert out == [None, None, Transition("open", "closed", 0.99), None]


def test_below_the_threshold_the_state_is_kept_and_the_run_breaks() -> None:
    confirmer = Confirmer(3, 0.8, state="closed")
    out = feed(confirmer, [("open", 0.9), ("open", 0.9), ("open", 0.79), ("open", 0.9), ("open", 0.9)])
    assert out == [None] * 5
    assert confirmer.state == "closed" and confirmer.pending
    assert confirmer.observe("open", 0.8) == Transition("open", "closed", 0.8)  # at the threshold counts


def test_a_low_score_is_not_pending() -> None:
    confirmer = Confirmer(3, 0.8, state="closed")
    confirmer.observe("open", 0.9)
    assert confirmer.pending
    confirmer.observe("open", 0.3)
    assert not confirmer.pending and confirmer.state == "closed"


def test_another_label_restarts_the_count_and_the_state_itself_cancels() -> None:
    confirmer = Confirmer(2, 0.5, state="empty")
    assert feed(confirmer, [("bird", 0.9), ("cat", 0.9), ("bird", 0.9)]) == [None, None, None]
    assert confirmer.candidate == "bird" and confirmer.count == 1
    confirmer.observe("empty", 0.6)
    assert not confirmer.pending
    assert feed(confirmer, [("bird", 0.9), ("bird", 0.9)])[-1] == Transition("bird", "empty", 0.9)


def test_confirm_one_changes_at_once() -> None:
    confirmer = Confirmer(1, 0.8)
    assert confirmer.observe("a", 0.9) == Transition("a", None, 0.9)
    assert confirmer.observe("b", 0.7) is None
    assert confirmer.observe("b", 0.8) == Transition("b", "a", 0.8)


def test_confirm_below_one_is_refused() -> None:
    with pytest.raises(ValueError):
        Confirmer(0, 0.8)
