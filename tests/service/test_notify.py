"""sd_notify over a real AF_UNIX datagram socket: path and abstract addresses, every message."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest

from edge_app.service.notify import (
    WATCHDOG,
    Notifier,
    extend_timeout_field,
    monotonic_usec,
    socket_address,
    watchdog_seconds,
)
from tests.helpers.notify_listener import Listener, abstract_listener, listener, path_listener  # noqa: F401 (fixtures)


def test_every_message_arrives_as_one_datagram(listener: Listener) -> None:
    notifier = Notifier.from_env({"NOTIFY_SOCKET": listener.env_value}, pid=1)
    assert notifier.enabled
    assert notifier.ready(status="29.8 fps, macaw 0.97")
    assert listener.receive() == {"READY": "1", "STATUS": "29.8 fps, macaw 0.97"}
    assert notifier.is_ready
    notifier.status("12.0 fps,\nno signal")
    assert listener.receive() == {"STATUS": "12.0 fps, no signal"}  # a newline would forge a field
    notifier.send(WATCHDOG, extend_timeout_field(45))
    assert listener.receive() == {"WATCHDOG": "1", "EXTEND_TIMEOUT_USEC": "45000000"}
    before = monotonic_usec()
    notifier.reloading()
    reload = listener.receive()
    assert reload["RELOADING"] == "1"
    assert before <= int(reload["MONOTONIC_USEC"]) <= monotonic_usec()
    assert not notifier.is_ready  # until READY=1 comes again
    notifier.stopping()
    assert listener.receive() == {"STOPPING": "1"}
    assert not listener.pending()
    notifier.close()


def test_without_notify_socket_everything_is_a_quiet_no_op(caplog: pytest.LogCaptureFixture) -> None:
    notifier = Notifier.from_env({"WATCHDOG_USEC": "30000000"})
    assert not notifier.enabled
    assert notifier.watchdog_interval is None  # no socket, nobody to ping
    assert not notifier.ready()
    assert not notifier.send(WATCHDOG)
    assert not notifier.stopping()
    assert caplog.records == []


def test_watchdog_interval_comes_from_watchdog_usec_for_this_process_only() -> None:
    env = {"NOTIFY_SOCKET": "/run/systemd/notify", "WATCHDOG_USEC": "30000000"}
    assert Notifier.from_env(env, pid=42).watchdog_interval == 30.0
    assert Notifier.from_env({**env, "WATCHDOG_PID": "42"}, pid=42).watchdog_interval == 30.0
    assert Notifier.from_env({**env, "WATCHDOG_PID": "41"}, pid=42).watchdog_interval is None
    assert watchdog_seconds({"WATCHDOG_USEC": "0"}, 1) is None
    assert watchdog_seconds({"WATCHDOG_USEC": "soon"}, 1) is None
    assert watchdog_seconds({}, 1) is None
    assert Notifier.from_env(env).watchdog_interval == 30.0  # default pid: os.getpid(), no WATCHDOG_PID


def test_socket_addresses() -> None:
    assert socket_address("/run/systemd/notify") == "/run/systemd/notify"
    assert socket_address("@abstract/name") == "\0abstract/name"
    assert socket_address("@") is None
    assert socket_address("vsock:2:1234") is None
    assert socket_address("relative/path") is None


def test_unsupported_socket_is_ignored_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    notifier = Notifier.from_env({"NOTIFY_SOCKET": "vsock:2:1234"})
    assert not notifier.enabled
    assert "only AF_UNIX" in caplog.text


def test_a_vanished_socket_never_raises_and_is_logged_once(
    path_listener: Listener, caplog: pytest.LogCaptureFixture
) -> None:
    notifier = Notifier.from_env({"NOTIFY_SOCKET": path_listener.env_value})
    address = path_listener.env_value
    path_listener.sock.close()
    Path(address).unlink()
    with caplog.at_level(logging.INFO, logger="edge_app.service.notify"):
        results = [notifier.send(WATCHDOG), notifier.status("x"), notifier.stopping()]
        assert results == [False, False, False]
        assert [r.levelname for r in caplog.records] == ["WARNING"]
        assert "cannot notify systemd" in caplog.records[0].getMessage()
        revived = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)  # systemd came back (e.g. daemon-reexec)
        revived.bind(address)
        try:
            assert notifier.send(WATCHDOG)
            assert revived.recv(100) == b"WATCHDOG=1"
            assert "notifying systemd again" in caplog.records[-1].getMessage()
        finally:
            revived.close()
