"""Real parts for the fleet tests: Debian's mosquitto on a free loopback port (killed, restarted
on the same port), a paho subscriber that records every message with its retained flag, a test
CA made with the openssl CLI, and promtool.

Where mosquitto, openssl or promtool is missing the test is skipped, unless
EDGE_APP_REQUIRE_TOOLS=1 (CI, whose .ci/run installs them): then it fails.
"""

from __future__ import annotations

import getpass
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.needs import require_tool
from tests.helpers.ports import free_port
from tests.helpers.waiting import poll

SBIN = os.pathsep.join((os.environ.get("PATH", ""), "/usr/sbin", "/usr/bin"))


def tool(name: str, package: str) -> str:
    """The tool's path, also in /usr/sbin (mosquitto's home); conftest's rule when it is missing."""
    return require_tool(name, f".ci/run installs Debian's {package}", SBIN)


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@dataclass(frozen=True)
class Certificates:
    ca: Path
    cert: Path
    key: Path


def make_ca(folder: Path) -> Certificates:
    """A CA and a server certificate for 127.0.0.1 and localhost, made now, valid for 2 days."""
    openssl = tool("openssl", "openssl")
    folder.mkdir(parents=True, exist_ok=True)

    def run(*args: str) -> None:
        subprocess.run([openssl, *args], cwd=folder, check=True, capture_output=True, timeout=60)

    run(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=edge-app test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        "-addext",
        "subjectKeyIdentifier=hash",
    )
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
    (folder / "server.ext").write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\nauthorityKeyIdentifier=keyid\nsubjectKeyIdentifier=hash\n"
    )
    run(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "server.ext",
    )
    return Certificates(folder / "ca.pem", folder / "server.pem", folder / "server.key")


class Broker:
    """mosquitto on 127.0.0.1 (anonymous, no persistence), plus a TLS listener when given a CA."""

    def __init__(self, folder: Path, tls: Certificates | None = None) -> None:
        self.binary = tool("mosquitto", "mosquitto")
        self.folder = folder
        self.port = free_port()
        self.tls_port = free_port() if tls else None
        # Run as whoever runs the tests (as root, mosquitto would switch to its own user, which cannot read tmp_path).
        lines = [
            f"user {getpass.getuser()}",
            f"listener {self.port} 127.0.0.1",
            "allow_anonymous true",
            "persistence false",
            "log_dest stderr",
        ]
        if tls:
            lines += [
                f"listener {self.tls_port} 127.0.0.1",
                f"cafile {tls.ca}",
                f"certfile {tls.cert}",
                f"keyfile {tls.key}",
            ]
        self.conf = folder / "mosquitto.conf"
        self.conf.write_text("\n".join(lines) + "\n")
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        assert self._launch(), (self.folder / "mosquitto.log").read_text()

    def _launch(self) -> bool:
        """Start it and wait until it listens; False if it exited (e.g. its port still held)."""
        with (self.folder / "mosquitto.log").open("ab") as log:
            process = subprocess.Popen([self.binary, "-c", str(self.conf)], stdout=log, stderr=log)
        self.process = process
        ports = [p for p in (self.port, self.tls_port) if p]
        poll(lambda: process.poll() is not None or all(listening(p) for p in ports), timeout=20)
        return process.poll() is None

    def kill(self) -> None:
        """kill -9: no goodbye to anyone, as when a broker's machine loses power."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
        self.process = None

    def restart(self) -> None:
        for _ in range(20):  # the port can linger a moment after a kill
            if self._launch():
                return
            time.sleep(0.5)
        raise AssertionError("mosquitto did not restart: " + (self.folder / "mosquitto.log").read_text())


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    running = Broker(tmp_path)
    running.start()
    yield running
    running.kill()


@dataclass(frozen=True)
class Message:
    topic: str
    payload: bytes
    retain: bool

    @property
    def text(self) -> str:
        return self.payload.decode("utf-8", "replace")

    def json(self) -> Any:
        import json

        return json.loads(self.payload)


class Subscriber:
    """A real paho client subscribed to `topic` (again after every reconnect), recording all it gets."""

    def __init__(self, port: int, topic: str = "#") -> None:
        import paho.mqtt.client as mqtt

        self.messages: list[Message] = []
        self._lock = threading.Lock()
        self.topic = topic
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        self.client.on_connect = lambda client, *_: client.subscribe(self.topic, qos=1)
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(1, 1)
        self.client.connect_async("127.0.0.1", port, keepalive=10)
        self.client.loop_start()

    def _on_message(self, _client: Any, _userdata: Any, message: Any) -> None:
        with self._lock:
            self.messages.append(Message(message.topic, bytes(message.payload), bool(message.retain)))

    def on(self, topic: str) -> list[Message]:
        with self._lock:
            return [m for m in self.messages if m.topic == topic]

    def wait(self, check: Callable[[Subscriber], bool], timeout: float = 20.0) -> bool:
        return bool(poll(lambda: check(self), timeout=timeout))

    def wait_for(
        self, topic: str, payload: bytes | None = None, timeout: float = 20.0, after: int = 0
    ) -> Message | None:
        """The first message on `topic` (with `payload`, if given) among those after the first `after`."""

        def found() -> Message | None:
            with self._lock:
                return next(
                    (
                        m
                        for m in self.messages[after:]
                        if m.topic == topic and (payload is None or m.payload == payload)
                    ),
                    None,
                )

        return poll(found, timeout=timeout)

    def count(self) -> int:
        with self._lock:
            return len(self.messages)

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> None:
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(10)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def subscribers() -> Iterator[Callable[..., Subscriber]]:
    made: list[Subscriber] = []

    def make(port: int, topic: str = "#") -> Subscriber:
        made.append(Subscriber(port, topic))
        return made[-1]

    yield make
    for subscriber in made:
        subscriber.close()


def promtool_check(text: str) -> subprocess.CompletedProcess:
    """`promtool check metrics` on an exposition (Debian's prometheus package ships promtool)."""
    promtool = tool("promtool", "prometheus")
    return subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
