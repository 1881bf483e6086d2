"""Parsing the live view's bind address ("HOST:PORT", "PORT", ":PORT") and binding it.

A bare port binds loopback only: a camera feed must never appear on the network
unless the user asked for it by naming a host such as 0.0.0.0.
"""

from __future__ import annotations

import errno
import socket
from dataclasses import dataclass

from edge_app.errors import EdgeAppError

DEFAULT_HOST = "127.0.0.1"
WILDCARDS = frozenset({"0.0.0.0", "::", ""})
_HINT = 'use "PORT", ":PORT" or "HOST:PORT", e.g. 8080 or 0.0.0.0:8080 (IPv6: [::1]:8080)'


@dataclass(frozen=True)
class BindAddress:
    host: str
    port: int  # 0: let the system pick a free port

    @property
    def family(self) -> socket.AddressFamily:
        return socket.AF_INET6 if ":" in self.host else socket.AF_INET


def parse_address(text: str) -> BindAddress:
    """'8080' and ':8080' -> 127.0.0.1:8080; 'host:8080'; '[::1]:8080'."""
    value = text.strip()
    if value.startswith("["):  # [v6]:port
        host, sep, rest = value[1:].partition("]")
        if not sep or not rest.startswith(":"):
            raise EdgeAppError(f"bad address {text!r}", _HINT)
        port_text = rest[1:]
    elif value.count(":") > 1:
        raise EdgeAppError(f"bad address {text!r}: put an IPv6 host in brackets", _HINT)
    else:
        host, sep, port_text = value.rpartition(":")
    if not port_text.isdigit() or int(port_text) > 65535:
        raise EdgeAppError(f"bad address {text!r}: the port must be a number from 0 to 65535", _HINT)
    return BindAddress(host or DEFAULT_HOST, int(port_text))


def format_address(address: BindAddress) -> str:
    """The inverse of parse_address: "127.0.0.1:8080", "[::1]:8080"."""
    host = f"[{address.host}]" if ":" in address.host else address.host
    return f"{host}:{address.port}"


def url_for(host: str, port: int, scheme: str = "http") -> str:
    """A URL that reaches a server bound to host:port from this machine (wildcards -> loopback)."""
    if host in WILDCARDS:
        host = "::1" if host == "::" else DEFAULT_HOST
    return f"{scheme}://[{host}]:{port}/" if ":" in host else f"{scheme}://{host}:{port}/"


def machine_names(hostname: str | None = None) -> tuple[str, ...]:
    """This machine's names on the LAN: its hostname and, for mDNS (avahi on Pi OS), hostname.local."""
    name = (hostname or socket.gethostname()).lower().rstrip(".")
    if not name or name == "localhost":
        return ()
    return (name,) if name.endswith(".local") else (name, f"{name}.local")


def primary_address(family: socket.AddressFamily = socket.AF_INET) -> str | None:
    """The address other machines most likely reach this one at: the source address of the
    default route. A UDP connect only picks a route; nothing is sent, so this works offline."""
    target = ("2001:db8::1", 9) if family == socket.AF_INET6 else ("192.0.2.1", 9)  # documentation ranges
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.connect(target)
            address = str(probe.getsockname()[0])
    except OSError:  # no route: no network at all
        return None
    return None if address in WILDCARDS else address


def lan_urls(address: BindAddress, port: int, scheme: str = "http", hostname: str | None = None) -> list[str]:
    """Where other machines reach a view bound to `address`: for a wildcard bind, the primary
    address and hostname.local; for a named address, that address."""
    if address.host not in WILDCARDS:
        return [url_for(address.host, port, scheme)]
    hosts = [primary_address()]
    if address.host == "::":
        hosts.append(primary_address(socket.AF_INET6))
    hosts += [name for name in machine_names(hostname) if name.endswith(".local")]
    return [url_for(host, port, scheme) for host in hosts if host]


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
