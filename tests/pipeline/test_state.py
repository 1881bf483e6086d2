"""What /api/status (and so the live view's panel) says about a result."""

from __future__ import annotations

from edge_app.frames import Label, Result, worth_showing
from edge_app.pipeline.capture import SourceHealth
from edge_app.pipeline.state import PipelineState

TOP = Label(89, "macaw", 0.93)


def test_worth_showing_keeps_the_best_and_the_runners_up_that_score() -> None:
    assert worth_showing([TOP, Label(90, "cockatoo", 0.04), Label(0, "background", 0.0)]) == (
        TOP,
        Label(90, "cockatoo", 0.04),
    )
    assert worth_showing([Label(0, "background", 0.0)]) == (Label(0, "background", 0.0),)  # the best is always there
    assert worth_showing([]) == ()


def test_the_status_labels_leave_out_zero_scores() -> None:
    state = PipelineState(SourceHealth("synthetic"), lambda: {"name": "m"})
    state.publish(Result(0, 0.0, 0.0, (TOP, Label(0, "background", 0.0), Label(1, "tench", 0.0)), 4.0))
    assert state.status()["labels"] == [TOP.as_dict()]
