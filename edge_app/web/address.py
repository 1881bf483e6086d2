"""Binding the live view's address, and the one-line reason when it cannot be bound."""

from __future__ import annotations

import errno
import socket

from edge_app.address import BindAddress
from edge_app.errors import EdgeAppError


def listen(address: BindAddress, backlog: int) -> socket.socket:
    """A listening socket on `address` ("[::]" serves IPv4 too); OSError goes to bind_error."""
    sock = socket.socket(address.family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if address.family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind((address.host, address.port))
        sock.listen(backlog)
    except BaseException:
        sock.close()
        raise
    return sock


def bind_error(address: BindAddress, exc: OSError) -> EdgeAppError:
    """The one-line reason a bind failed, with what to do about it."""
    other = "choose another with --http HOST:PORT (port 0 picks a free one)"
    if exc.errno == errno.EADDRINUSE:
        return EdgeAppError(f"port {address.port} is in use", f"stop the program using it or {other}")
    if exc.errno == errno.EACCES:
        return EdgeAppError(f"port {address.port} needs root", f"use a port above 1023, e.g. 8080, or {other}")
    if isinstance(exc, socket.gaierror) or exc.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
        return EdgeAppError(
            f"cannot listen on {address.host!r}: not an address of this machine",
            "use 127.0.0.1 (this machine only) or 0.0.0.0 (every network)",
        )
    return EdgeAppError(f"cannot listen on {address.host}:{address.port} ({exc.strerror or exc})", other)
