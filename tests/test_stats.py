"""The pipeline's counters and rates: RateMeter (events per second over a sliding window),
Samples (percentiles of the last N values) and Counters. Time is passed in, so nothing sleeps."""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np
import pytest

from edge_app.stats import Counters, RateMeter, Samples


def run_together(*works: Callable[[], object]) -> None:
    """Each callable on its own thread, all released at once; returns when all are done."""
    start = threading.Barrier(len(works))

    def go(work: Callable[[], object]) -> None:
        start.wait()
        work()

    threads = [threading.Thread(target=go, args=(work,), daemon=True) for work in works]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not any(thread.is_alive() for thread in threads)


# -- RateMeter ----------------------------------------------------------------------------


def ticked(times: list[float], window_s: float = 2.0) -> RateMeter:
    meter = RateMeter(window_s)
    for t in times:
        meter.tick(now=t)
    return meter


def test_a_steady_stream_gives_its_rate() -> None:
    meter = ticked([100 + i / 30 for i in range(31)])  # 30 fps for one second
    assert meter.rate(now=101.0) == pytest.approx(30.0)


def test_fewer_than_two_events_is_no_rate() -> None:
    assert RateMeter().rate(now=5.0) == 0.0
    assert ticked([5.0]).rate(now=5.0) == 0.0


def test_events_at_one_instant_are_no_rate_not_a_division_by_zero() -> None:
    assert ticked([7.0, 7.0, 7.0]).rate(now=7.0) == 0.0


def test_the_rate_falls_when_events_stop() -> None:
    meter = ticked([10 + i / 10 for i in range(11)])  # 10 per second over 1 s
    assert meter.rate(now=11.0) == pytest.approx(10.0)
    assert meter.rate(now=11.5) == pytest.approx(10 / 1.5)  # silence since the last one counts too
    assert meter.rate(now=20.0) == 0.0  # all older than the window


def test_only_the_window_counts() -> None:
    slow_then_fast = [i * 1.0 for i in range(10)] + [
        10 + i / 20 for i in range(1, 41)
    ]  # 1/s for 10 s, then 20/s for 2 s
    meter = ticked(slow_then_fast, window_s=2.0)
    assert meter.rate(now=12.0) == pytest.approx(20.0, rel=0.05)
    assert ticked(slow_then_fast, window_s=20.0).rate(now=12.0) == pytest.approx(49 / 12.0, rel=0.01)


def test_the_clock_is_monotonic_time_by_default() -> None:
    meter = RateMeter()
    meter.tick()
    meter.tick()
    assert meter.rate() >= 0.0  # real clock: just never negative or an error


def test_ticks_from_many_threads_are_all_counted() -> None:
    meter = RateMeter(window_s=1e9)

    def ticks() -> None:
        for i in range(1, 1001):
            meter.tick(now=float(i))

    run_together(*[ticks] * 4)
    assert meter.rate(now=1000.0) == pytest.approx((4000 - 1) / 999)


def test_the_rate_can_be_read_while_another_thread_ticks() -> None:
    meter = RateMeter(window_s=0.5)  # a short window: ticks keep trimming while the reader reads
    errors: list[BaseException] = []
    done = threading.Event()

    def tick() -> None:
        for i in range(20_000):
            meter.tick(now=i / 1000)
        done.set()

    def read() -> None:
        try:
            while not done.is_set():
                assert meter.rate(now=20.0) >= 0.0
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    run_together(tick, read)
    assert errors == [] and meter.rate(now=19.999) == pytest.approx(1000.0, rel=0.01)


# -- Samples -------------------------------------------------------------------------------


def test_no_samples_means_none() -> None:
    samples = Samples()
    assert samples.percentile(50) is None and samples.last() is None


def test_percentiles_are_numpys_over_the_values() -> None:
    values = [12.0, 3.5, 40.0, 7.25, 7.25, 100.0, 0.5]
    samples = Samples()
    for value in values:
        samples.add(value)
    for q in (0, 5, 50, 95, 100):
        assert samples.percentile(q) == pytest.approx(float(np.percentile(values, q)))
    assert samples.last() == 0.5
    assert isinstance(samples.percentile(50), float)


def test_only_the_last_n_values_are_kept() -> None:
    samples = Samples(size=3)
    for value in (1.0, 2.0, 3.0, 4.0, 5.0):
        samples.add(value)
    assert samples.percentile(0) == 3.0 and samples.percentile(100) == 5.0 and samples.last() == 5.0


def test_percentiles_can_be_read_while_another_thread_adds() -> None:
    samples = Samples(size=500)  # full: every add also drops the oldest, while a reader iterates
    errors: list[BaseException] = []
    done = threading.Event()

    def add() -> None:
        for i in range(20_000):
            samples.add(float(i % 100))
        done.set()

    def read() -> None:
        try:
            while not done.is_set():
                value = samples.percentile(50)
                assert value is None or 0.0 <= value <= 99.0
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    run_together(add, read)
    assert errors == [] and done.is_set()


# -- Counters ------------------------------------------------------------------------------


def test_named_counters_start_at_zero_and_count() -> None:
    counters = Counters("captured", "dropped")
    assert counters.snapshot() == {"captured": 0, "dropped": 0}
    counters.add("captured")
    counters.add("captured", 4)
    counters.add("dropped", 0)
    assert counters["captured"] == 5 and counters["dropped"] == 0


def test_an_unknown_name_reads_as_zero_and_is_created_on_first_add() -> None:
    counters = Counters("captured")
    assert counters["errors"] == 0 and "errors" not in counters.snapshot()
    counters.add("errors", 2)
    assert counters.snapshot() == {"captured": 0, "errors": 2}


def test_a_snapshot_is_a_copy() -> None:
    counters = Counters("captured")
    snapshot = counters.snapshot()
    snapshot["captured"] = 99
    counters.add("captured")
    assert counters["captured"] == 1 and snapshot["captured"] == 99


def test_adds_from_many_threads_are_not_lost() -> None:
    counters = Counters("frames")

    def adds() -> None:
        for _ in range(2000):
            counters.add("frames")

    run_together(*[adds] * 8)
    assert counters["frames"] == 16_000
