"""The live view under load, in a process of its own with the descriptor limit a service gets
by default (1,024): bursts, slowloris clients, and running out of descriptors. Behaviour only
(answered or not, CPU not pinned); the figures are in benchmarks/bench_http_limits.py."""

from __future__ import annotations

import time

import pytest

from edge_app.web.limits import limits_for
from tests.helpers.lan_load import Server, Tricklers, get, raise_own_open_files, server, simultaneous
from tests.helpers.live_view import wait_until
from tests.helpers.needs import unavailable

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True, scope="module")
def _room_for_many_clients() -> None:
    if not raise_own_open_files(1500):
        unavailable("this test process may not open 1,500 sockets (ulimit -Hn)")


def cpu_share(running: Server, seconds: float = 3.0) -> float:
    """The server's CPU time over a window, as a share of the window: a busy loop is ~1."""
    cpu, start = running.cpu_seconds(), time.monotonic()
    time.sleep(seconds)
    return (running.cpu_seconds() - cpu) / (time.monotonic() - start)


def test_200_simultaneous_requests_on_kept_alive_connections_are_all_answered() -> None:
    with server("--http", "0.0.0.0:0", "--nofile", "1024") as running:
        statuses, _ = simultaneous(running.port, 200, timeout=20.0)
        assert statuses == [200] * 200
        assert get(running.port) == 200
    assert not any("Traceback" in line for line in running.errors)


def test_1100_trickling_clients_are_taken_in_or_refused_and_a_real_request_still_gets_through() -> None:
    held = limits_for(1024).held
    with server("--http", "0.0.0.0:0", "--nofile", "1024") as running:
        tricklers = Tricklers(running.port, 1100, every_s=1.0)
        try:
            tricklers.connect(timeout=20.0)
            assert tricklers.connect_failures == 0  # every connection accepted at once, none left in the queue
            assert wait_until(lambda: running.open_files() >= held, timeout=10.0), running.open_files()
            assert get(running.port, timeout=20.0) == 200  # while they stay connected
            assert wait_until(
                lambda: tricklers.still_connected() <= held, timeout=30.0
            )  # the excess was let go (the header deadline, 10 s, ends them all)
            assert running.open_files() < 1024
            share = cpu_share(running)
            assert share < 0.5, f"the server used {share:.0%} of a core while clients trickled"
        finally:
            tricklers.close()
        assert get(running.port) == 200
    warnings = [line for line in running.errors if "shedding" in line]
    assert 1 <= len(warnings) <= 3, running.errors  # one per burst, not one per connection


def test_out_of_descriptors_the_server_pauses_accepting_instead_of_spinning() -> None:
    # a held cap above the limit: accept() itself runs out of descriptors
    with server("--http", "0.0.0.0:0", "--nofile", "256", "--held", "1000") as running:
        tricklers = Tricklers(running.port, 600, every_s=1.0)
        try:
            tricklers.connect(timeout=20.0)
            assert wait_until(lambda: any("file descriptors" in line for line in running.errors), timeout=10.0), (
                running.errors
            )
            share = cpu_share(running)
            assert share < 0.5, f"the server used {share:.0%} of a core with no descriptors left"
            assert get(running.port, timeout=20.0) == 200
        finally:
            tricklers.close()
    assert not any("Traceback" in line for line in running.errors)
