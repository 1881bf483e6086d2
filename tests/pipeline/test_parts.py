"""The pipeline's parts on their own: the inference error policy as pure logic on a given clock,
and the supervisor that keeps a run's first failure."""

from __future__ import annotations

import threading

from edge_app.errors import EdgeAppError
from edge_app.heartbeat import Heartbeat
from edge_app.pipeline.inference import ErrorPolicy
from edge_app.pipeline.supervisor import Supervisor


def test_failures_are_fatal_only_three_in_a_row_past_the_window() -> None:
    policy = ErrorPolicy(window_s=10.0, last_success=100.0)
    assert policy.failed(101.0) == (True, False)  # the first one is said, not fatal
    assert policy.failed(102.0) == (False, False)
    assert policy.failed(105.0) == (False, False)  # three in a row, but within the window
    assert policy.failed(111.0) == (False, True)  # still failing 11 s after the last success


def test_a_success_ends_the_run_of_failures_and_restarts_the_window() -> None:
    policy = ErrorPolicy(window_s=10.0, last_success=0.0)
    for now in (1.0, 2.0):
        policy.failed(now)
    assert policy.succeeded(50.0) == 2 and policy.succeeded(51.0) == 0
    assert [policy.failed(now) for now in (55.0, 56.0, 57.0)] == [(True, False), (False, False), (False, False)]
    assert policy.failed(61.5) == (False, True)  # 11.5 s after the success at 50


def test_many_failures_long_ago_are_not_fatal_right_after_a_success() -> None:
    policy = ErrorPolicy(window_s=1.0, last_success=0.0)
    for now in range(1, 10):
        policy.failed(float(now))
    policy.succeeded(20.0)
    assert policy.failed(20.5) == (True, False)


def supervisor() -> Supervisor:
    return Supervisor(threading.Event(), {"capture": Heartbeat("capture")})


def run(thread: threading.Thread) -> None:
    thread.start()
    thread.join(10)
    assert not thread.is_alive()


def test_a_bug_in_a_thread_stops_the_run_as_fatal_and_the_first_reason_stays() -> None:
    runs = supervisor()

    def broken() -> None:
        raise ValueError("boom")

    run(runs.thread("display", broken))
    assert runs.stop.is_set() and runs.fatal == "display: boom" and runs.user_error is None
    runs.fail("later")
    assert runs.fatal == "display: boom"


def test_a_users_mistake_in_a_thread_is_kept_as_an_error_not_a_fatal() -> None:
    runs = supervisor()
    mistake = EdgeAppError("the file went away")

    def vanished() -> None:
        raise mistake

    run(runs.thread("capture", vanished))
    assert runs.stop.is_set() and runs.user_error is mistake and runs.fatal is None


def test_stopping_actions_run_in_the_order_given() -> None:
    runs, said = supervisor(), []
    runs.when_stopping(lambda: said.append("slot"))
    runs.when_stopping(lambda: said.append("systemd"))
    runs.stopping()
    assert said == ["slot", "systemd"]
    assert runs.heartbeat("capture").name == "capture"
