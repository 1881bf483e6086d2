"""Heartbeats and the watchdog: pings at half the interval while healthy, none while a thread is stuck."""

from __future__ import annotations

import logging
import threading

import pytest

from edge_app.service.notify import Notifier
from edge_app.service.watchdog import Heartbeat, Watchdog, stale
from tests.helpers.notify_listener import Listener, path_listener, pings  # noqa: F401 (fixture)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class RecordingNotifier(Notifier):
    """A Notifier whose datagrams are kept instead of sent."""

    def __init__(self, watchdog_interval: float | None) -> None:
        super().__init__("/nonexistent/notify", watchdog_interval)
        self.sent: list[tuple[str, ...]] = []

    def send(self, *fields: str) -> bool:
        self.sent.append(fields)
        return True


def test_heartbeat_age_and_stale() -> None:
    clock = FakeClock()
    capture, infer = Heartbeat("capture", clock), Heartbeat("inference", clock)
    clock.now += 5
    infer.beat()
    assert capture.age() == 5 and infer.age() == 0
    assert stale([capture, infer], 5) == [("capture", 5)]
    assert stale([capture, infer], 5.5) == []


def test_tick_pings_with_status_while_every_thread_beats() -> None:
    clock = FakeClock()
    notifier = RecordingNotifier(watchdog_interval=30)
    beats = [Heartbeat("capture", clock), Heartbeat("inference", clock)]
    dog = Watchdog(notifier, beats, threading.Event(), status_fn=lambda: "29.8 fps, macaw 0.97")
    assert dog.period == 15
    notifier.ready()
    clock.now += 29
    assert dog.tick() == ["WATCHDOG=1", "STATUS=29.8 fps, macaw 0.97"]
    assert notifier.sent[-1] == ("WATCHDOG=1", "STATUS=29.8 fps, macaw 0.97")


def test_tick_withholds_the_ping_while_a_thread_is_stuck(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    notifier = RecordingNotifier(watchdog_interval=30)
    capture, infer = Heartbeat("capture", clock), Heartbeat("inference", clock)
    dog = Watchdog(notifier, [capture, infer], threading.Event(), status_fn=lambda: "0.0 fps")
    notifier.ready()
    clock.now += 31
    infer.beat()
    assert dog.tick() == ["STATUS=stuck: capture thread silent for 31 s"]
    clock.now += 15
    infer.beat()
    assert dog.tick() == ["STATUS=stuck: capture thread silent for 46 s"]
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "capture thread has made no progress" in errors[0].getMessage()  # once, not per turn
    capture.beat()
    assert dog.tick() == ["WATCHDOG=1", "STATUS=0.0 fps"]
    assert "capture thread is making progress again" in caplog.records[-1].getMessage()


def test_before_ready_a_healthy_start_extends_the_start_timeout() -> None:
    notifier = RecordingNotifier(watchdog_interval=30)
    dog = Watchdog(notifier, [Heartbeat("capture")], threading.Event())
    assert dog.tick() == ["WATCHDOG=1", "EXTEND_TIMEOUT_USEC=45000000"]  # 3 turns of 15 s
    notifier.ready()
    assert dog.tick() == ["WATCHDOG=1"]


def test_without_watchdog_usec_only_status_and_start_extension_are_sent() -> None:
    notifier = RecordingNotifier(watchdog_interval=None)
    dog = Watchdog(notifier, [Heartbeat("capture")], threading.Event(), status_fn=lambda: "ok")
    notifier.ready()
    assert dog.period == 5.0
    assert dog.tick() == ["STATUS=ok"]


def test_a_failing_status_function_does_not_stop_the_pings(caplog: pytest.LogCaptureFixture) -> None:
    notifier = RecordingNotifier(watchdog_interval=30)
    notifier.ready()

    def broken() -> str:
        raise RuntimeError("stats not ready")

    dog = Watchdog(notifier, [Heartbeat("capture")], threading.Event(), status_fn=broken)
    assert dog.tick() == ["WATCHDOG=1"]
    assert dog.tick() == ["WATCHDOG=1"]
    assert len([r for r in caplog.records if "status for systemd failed" in r.getMessage()]) == 1


def test_watchdog_thread_does_not_start_outside_systemd() -> None:
    stop = threading.Event()
    dog = Watchdog(Notifier(None), [Heartbeat("capture")], stop)
    dog.start()
    assert not dog.running


def _worker(
    beat: Heartbeat, stop: threading.Event, in_driver: threading.Event, driver_returns: threading.Event
) -> None:
    """A pipeline-like loop: beats every turn, idles on a bounded wait, sometimes 'calls a driver' that hangs."""
    while not stop.is_set():
        beat.beat()
        if in_driver.is_set():
            driver_returns.wait()  # stuck in a driver call: no beats until it returns
            in_driver.clear()
        stop.wait(0.01)


@pytest.mark.slow
def test_real_socket_pings_while_healthy_and_stops_while_a_thread_is_stuck(path_listener: Listener) -> None:
    """Over a real socket. The spacing of the pings (half the interval) is Watchdog.period, tested
    above; how evenly a real process keeps it is measured in benchmarks/bench_responsiveness.py."""
    interval = 0.4
    notifier = Notifier.from_env({"NOTIFY_SOCKET": path_listener.env_value, "WATCHDOG_USEC": str(int(interval * 1e6))})
    stop, in_driver, driver_returns = threading.Event(), threading.Event(), threading.Event()
    beat = Heartbeat("capture")
    worker = threading.Thread(target=_worker, args=(beat, stop, in_driver, driver_returns), daemon=True)
    worker.start()
    dog = Watchdog(notifier, [beat], stop, status_fn=lambda: "30.0 fps, macaw 0.97")
    notifier.ready()
    path_listener.receive()  # READY=1
    try:
        dog.start()
        healthy = path_listener.collect_until(lambda got: len(pings(got)) >= 5, message="5 pings while healthy")
        assert all(fields.get("STATUS") == "30.0 fps, macaw 0.97" for _, fields in healthy)

        in_driver.set()
        # The ping in flight when the thread got stuck may still come; from the first "stuck" on, none may.
        path_listener.collect_until(lambda got: is_stuck(got[-1][1]) if got else False, message="a stuck STATUS")
        stuck = path_listener.collect_until(lambda got: len(got) >= 3, message="3 more turns of the watchdog")
        assert not pings(stuck) and all(is_stuck(fields) for _, fields in stuck)

        driver_returns.set()
        path_listener.collect_until(
            lambda got: len(pings(got)) >= 1, message="a ping once the thread made progress again"
        )
    finally:
        stop.set()
        driver_returns.set()
        dog.join(timeout=10)
        worker.join(timeout=10)
    assert not dog.running  # the stop event ends it


def is_stuck(fields: dict[str, str]) -> bool:
    return fields.get("STATUS", "").startswith("stuck: capture thread silent")
