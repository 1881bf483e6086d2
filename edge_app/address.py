"""Where the live view listens and how it is reached: the bind address ("HOST:PORT", "PORT",
":PORT"), host names, the URLs other machines use, and whether that bind needs a token.

Plain parsing, no sockets bound: settings, `service status` and `edge-app token` read these
without loading the web server (edge_app.web binds and serves). A bare port binds loopback
only: a camera feed must never appear on the network unless the user asked for it by naming
a host such as 0.0.0.0.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass

from edge_app.errors import EdgeAppError

AUTH_MODES = ("token", "always", "none")  # token: off loopback; always: on loopback too; none: never
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
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


def is_loopback(bind_host: str) -> bool:
    """Only this machine reaches it: localhost, 127.0.0.0/8, ::1. Other names may resolve anywhere."""
    if bind_host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(bind_host).is_loopback
    except ValueError:
        return False


def needs_token(mode: str, bind_host: str) -> bool:
    """By the bind address only, never by the client's (a proxy here makes every client local)."""
    if mode == "none":
        return False
    return mode == "always" or not is_loopback(bind_host)


def host_name(value: str) -> str | None:
    """The host part of a Host header or an allowed name, normalised: 'Pi.Local.:8080' ->
    'pi.local', '[::1]:80' -> '::1', '::ffff:10.0.0.2' -> '10.0.0.2'; None if malformed."""
    text = value.strip().lower()
    if text.startswith("["):
        name, sep, rest = text[1:].partition("]")
        if not sep or (rest and not (rest.startswith(":") and rest[1:].isdigit())):
            return None
    elif text.count(":") == 1:
        name, _, port = text.partition(":")
        if not port.isdigit():
            return None
    else:
        name = text  # a bare name, IPv4, or an unbracketed IPv6 (as getsockname gives it)
    name = name.rstrip(".")
    if not name or any(c.isspace() or c in "/\\@?#," for c in name):
        return None
    if name.startswith("::ffff:") and "." in name:  # IPv4 through an IPv6 wildcard bind
        name = name[7:]
    return name


def parse_hosts(text: str) -> tuple[str, ...]:
    """The http_hosts setting: 'cam.example.com, 192.168.1.20' -> ('cam.example.com', '192.168.1.20')."""
    names = []
    for item in text.split(","):
        if not item.strip():
            continue
        name = host_name(item)
        if name is None:
            raise EdgeAppError(
                f"bad host name {item.strip()!r}",
                "give names or addresses separated by commas, e.g. cam.example.com,192.168.1.20",
            )
        names.append(name)
    return tuple(dict.fromkeys(names))
