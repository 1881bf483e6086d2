"""A stand-in for systemd's notify socket, for tests of sd_notify (path or abstract address)."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator

import pytest

Messages = list[tuple[float, dict[str, str]]]  # (arrival time, fields) per datagram


def pings(messages: Messages) -> list[float]:
    """Arrival times of the WATCHDOG=1 pings among `messages`."""
    return [t for t, fields in messages if fields.get("WATCHDOG") == "1"]


class Listener:
    """What systemd would see: one datagram per message, parsed into KEY=VALUE fields."""

    def __init__(self, sock: socket.socket, env_value: str) -> None:
        self.sock = sock
        self.env_value = env_value

    def receive(self, timeout: float = 2.0) -> dict[str, str]:
        self.sock.settimeout(timeout)
        data = self.sock.recv(4096).decode()
        return dict(line.split("=", 1) for line in data.split("\n"))

    def collect(self, seconds: float) -> Messages:
        """Every datagram arriving within `seconds`, with its arrival time."""
        deadline = time.monotonic() + seconds
        got = []
        while (left := deadline - time.monotonic()) > 0:
            try:
                fields = self.receive(timeout=left)
            except TimeoutError:
                break
            got.append((time.monotonic(), fields))
        return got

    def collect_until(self, done: Callable[[Messages], bool], timeout: float = 30.0, message: str = "") -> Messages:
        """Every datagram until `done(the datagrams so far)` holds; fails after `timeout` seconds without it."""
        deadline = time.monotonic() + timeout
        got: Messages = []
        while not done(got):
            left = deadline - time.monotonic()
            try:
                if left <= 0:
                    raise TimeoutError
                fields = self.receive(timeout=left)
            except TimeoutError:
                raise AssertionError(
                    f"not within {timeout:g} s: {message or 'the expected notifications'}; got {[m for _, m in got]}"
                ) from None
            got.append((time.monotonic(), fields))
        return got

    def drain(self) -> Messages:
        """Whatever has arrived and not been read yet, without waiting for more."""
        got: Messages = []
        while self.pending():
            got.append((time.monotonic(), self.receive()))
        return got

    def pending(self) -> bool:
        self.sock.settimeout(0.05)
        try:
            self.sock.recv(4096, socket.MSG_PEEK)
        except (TimeoutError, BlockingIOError):
            return False
        return True


@pytest.fixture
def path_listener() -> Iterator[Listener]:
    folder = tempfile.mkdtemp(prefix="notify-", dir="/tmp")  # AF_UNIX paths must stay under 108 bytes
    path = os.path.join(folder, "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    yield Listener(sock, path)
    sock.close()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def abstract_listener() -> Iterator[Listener]:
    name = f"edge-app-test-{uuid.uuid4().hex}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    yield Listener(sock, "@" + name)
    sock.close()


@pytest.fixture(params=["path", "abstract"])
def listener(request: pytest.FixtureRequest) -> Listener:
    return request.getfixturevalue(f"{request.param}_listener")
