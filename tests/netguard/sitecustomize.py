"""Tests reach no machine but this one: a guard over socket.connect and connect_ex.

Loaded in the pytest process by conftest.py, and in every Python child a test starts, as
`sitecustomize` through PYTHONPATH (conftest puts this folder there). A connection to an address
that is not this machine's (loopback, or an address a socket here can bind) is refused with
NonLoopbackConnection before any packet leaves, and is written down: in the pytest process
in memory, in a child to the file named by $PYTEST_NETGUARD_LOG. conftest fails the test that
did it, even when the code under test catches the error and carries on.
"""

from __future__ import annotations

import _socket
import os
import socket
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _socket import _Address  # what connect() takes, as typeshed spells it

LOG_ENV = "PYTEST_NETGUARD_LOG"
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_local: dict[str, bool] = {}
_seen: list[str] = []


class NonLoopbackConnection(ConnectionRefusedError):
    """A test tried to reach another machine."""


def is_this_machine(host: str, family: int) -> bool:
    """Loopback, unspecified (0.0.0.0 reaches this machine), or an address of one of its interfaces."""
    import ipaddress

    key = f"{family}:{host}"
    if key not in _local:
        try:
            address = ipaddress.ip_address(host.split("%")[0])
        except ValueError:  # a name: what it resolves to must all be local
            try:
                infos = socket.getaddrinfo(host, None, family, socket.SOCK_STREAM)
            except OSError:
                infos = []
            _local[key] = bool(infos) and all(is_this_machine(str(info[4][0]), info[0]) for info in infos)
            return _local[key]
        _local[key] = address.is_loopback or address.is_unspecified or _bindable(host, family)
    return _local[key]


def _bindable(host: str, family: int) -> bool:
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.bind((host, 0))
        return True
    except OSError:
        return False


def _check(sock: _socket.socket, address: object) -> None:
    if sock.family not in (socket.AF_INET, socket.AF_INET6) or not isinstance(address, tuple):
        return  # Unix sockets and the like never leave the machine
    if sock.type != socket.SOCK_STREAM:
        return  # a UDP connect sends nothing: it only picks a route (how a program finds its LAN address)
    host = str(address[0])
    if is_this_machine(host, sock.family):
        return
    what = f"pid {os.getpid()} connected to {host}:{address[1]}"
    log = os.environ.get(LOG_ENV)
    if log:
        with open(log, "a", encoding="utf-8") as out:
            out.write(what + "\n")
    else:
        _seen.append(what)
    raise NonLoopbackConnection(f"test network guard: {what}, which is not this machine")


def _connect(self: _socket.socket, address: _Address) -> None:
    _check(self, address)
    return _real_connect(self, address)


def _connect_ex(self: _socket.socket, address: _Address) -> int:
    _check(self, address)
    return _real_connect_ex(self, address)


def install() -> None:
    # The guard's whole point: every socket's connect goes through _check first.
    socket.socket.connect = _connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _connect_ex  # type: ignore[method-assign]


def take() -> list[str]:
    """The connections refused so far (this process and its children), forgotten once taken."""
    found = list(_seen)
    _seen.clear()
    log = os.environ.get(LOG_ENV)
    if log and os.path.exists(log):
        with open(log, "r+", encoding="utf-8") as file:
            found += file.read().splitlines()
            file.truncate(0)
    return found


if os.environ.get(LOG_ENV):
    install()
