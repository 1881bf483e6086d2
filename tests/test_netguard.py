"""The guard in conftest.py: a test that reaches beyond this machine fails, in-process or in a child."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from tests.helpers.loopback import fail_if_reached_out, netguard

ELSEWHERE = ("192.0.2.1", 9)  # TEST-NET-1 (RFC 5737): never this machine's


def test_a_connection_to_another_machine_is_refused_and_written_down() -> None:
    with socket.socket() as sock, pytest.raises(ConnectionRefusedError, match="test network guard"):
        sock.connect(ELSEWHERE)
    with socket.socket() as sock, pytest.raises(ConnectionRefusedError):
        sock.connect_ex(ELSEWHERE)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(ELSEWHERE, timeout=1)
    seen = netguard.take()  # taken here, so this test itself passes
    assert len(seen) == 3 and all("192.0.2.1:9" in line for line in seen)


def test_a_child_python_is_guarded_too() -> None:
    child = (
        "import socket\n"
        f"try:\n    socket.create_connection({ELSEWHERE!r}, timeout=1)\n"
        "except OSError as e:\n    print(e)"
    )
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=60)
    assert "test network guard" in done.stdout, done.stderr
    seen = netguard.take()
    assert len(seen) == 1 and "192.0.2.1:9" in seen[0]  # written down even though the child caught it


def test_a_udp_connect_sends_nothing_and_is_let_through() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(ELSEWHERE)  # picks a route only: how the live view finds this machine's LAN address
    assert netguard.take() == []


def test_this_machine_is_reachable() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=5):
            pass
        with socket.create_connection(("localhost", server.getsockname()[1]), timeout=5):
            pass
    assert netguard.take() == []


def test_the_guard_fails_the_test_that_reached_out_even_when_the_code_carried_on() -> None:
    try:
        socket.create_connection(ELSEWHERE, timeout=1)
    except OSError:
        pass  # the code under test catches it and carries on
    with pytest.raises(pytest.fail.Exception, match="must not reach beyond this machine: pid .* 192.0.2.1:9"):
        fail_if_reached_out()  # what the autouse fixture runs after every test
