"""The sd_notify protocol in pure Python: one datagram per message to $NOTIFY_SOCKET.

No libsystemd needed. Outside systemd (NOTIFY_SOCKET unset) every call is a cheap no-op, and
a vanished socket never raises into the app: a health report must not be what kills it.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Mapping

log = logging.getLogger(__name__)

SEND_TIMEOUT_S = 1.0  # systemd drains its queue fast; never let a full queue stall a caller


def socket_address(value: str) -> str | None:
    """$NOTIFY_SOCKET -> an AF_UNIX address: "/path", or "@name" for an abstract socket (NUL-prefixed)."""
    if value.startswith("/"):
        return value
    if value.startswith("@") and len(value) > 1:
        return "\0" + value[1:]
    return None  # e.g. vsock:..., which only newer systemd speaks and we do not need


def watchdog_seconds(environ: Mapping[str, str], pid: int) -> float | None:
    """$WATCHDOG_USEC in seconds, or None when systemd wants no pings from this process."""
    owner = environ.get("WATCHDOG_PID", "")
    if owner and owner.strip() != str(pid):
        return None  # the watchdog belongs to another process (e.g. our parent)
    try:
        usec = int(environ.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    return usec / 1e6 if usec > 0 else None


def monotonic_usec() -> int:
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000


# The fields of a notify message, each spelt once; one datagram may carry several.
READY = "READY=1"
WATCHDOG = "WATCHDOG=1"
STOPPING = "STOPPING=1"
RELOADING = "RELOADING=1"


def status_field(text: str) -> str:
    return f"STATUS={one_line(text)}"


def extend_timeout_field(seconds: float) -> str:
    """Still starting and healthy: push systemd's start timeout this far past now."""
    return f"EXTEND_TIMEOUT_USEC={int(seconds * 1e6)}"


class Notifier:
    """Talks to the service manager. Thread-safe; a no-op when there is nobody to talk to."""

    def __init__(self, address: str | None, watchdog_interval: float | None = None) -> None:
        self.address = address
        self.watchdog_interval = watchdog_interval if address else None
        self.is_ready = False
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._failed = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, pid: int | None = None) -> Notifier:
        environ = os.environ if environ is None else environ
        raw = environ.get("NOTIFY_SOCKET", "")
        address = socket_address(raw) if raw else None
        if raw and address is None:
            log.warning("ignoring NOTIFY_SOCKET=%s: only AF_UNIX sockets are supported", raw)
        return cls(address, watchdog_seconds(environ, os.getpid() if pid is None else pid))

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def send(self, *fields: str) -> bool:
        """One datagram of KEY=VALUE lines; False (logged once) when it could not be delivered."""
        if self.address is None or not fields:
            return False
        payload = "\n".join(fields).encode("utf-8", "replace")
        with self._lock:
            try:
                if self._sock is None:
                    self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                    self._sock.settimeout(SEND_TIMEOUT_S)
                self._sock.sendto(payload, self.address)
            except OSError as exc:
                if not self._failed:
                    self._failed = True
                    log.warning(
                        "cannot notify systemd at %s (%s); carrying on without it", self.address.replace("\0", "@"), exc
                    )
                return False
            if self._failed:
                self._failed = False
                log.info("notifying systemd again")
            return True

    def ready(self, status: str | None = None) -> bool:
        self.is_ready = True
        return self.send(READY, *([status_field(status)] if status else []))

    def status(self, text: str) -> bool:
        return self.send(status_field(text))

    def stopping(self) -> bool:
        return self.send(STOPPING)

    def reloading(self) -> bool:
        """Reloading config; send ready() when done. MONOTONIC_USEC lets systemd order the two."""
        self.is_ready = False  # until the rebuilt pipeline classifies again (the watchdog extends timeouts meanwhile)
        return self.send(RELOADING, f"MONOTONIC_USEC={monotonic_usec()}")

    def close(self) -> None:
        with self._lock:
            if self._sock is not None:
                self._sock.close()
                self._sock = None


def one_line(text: str) -> str:
    """STATUS= is one line: a newline would start a new (bogus) field."""
    return " ".join(text.split())
