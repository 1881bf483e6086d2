"""Load on a live view in another process (tests/helpers/lan_server.py): simultaneous requests, trickling
clients, and the server's CPU time. Shared by tests/web/test_load.py and benchmarks/bench_http_limits.py."""

from __future__ import annotations

import errno
import http.client
import os
import resource
import selectors
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

SERVER = Path(__file__).resolve().parent / "lan_server.py"
TOKEN = "load-test-token-0123456789"


@dataclass
class Server:
    process: subprocess.Popen
    port: int
    errors: list[str] = field(default_factory=list)  # its stderr lines

    def cpu_seconds(self) -> float:
        """user + system CPU time of the server process, from /proc/<pid>/stat."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def open_files(self) -> int:
        return len(os.listdir(f"/proc/{self.process.pid}/fd"))


@contextmanager
def server(*args: str) -> Iterator[Server]:
    """tests/helpers/lan_server.py with `args`, until the block ends."""
    process = subprocess.Popen(
        [sys.executable, str(SERVER), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    stdin, stdout, stderr = process.stdin, process.stdout, process.stderr
    assert stdin is not None and stdout is not None and stderr is not None  # all three are PIPEs
    try:
        line = stdout.readline()
        if not line.startswith("PORT "):
            raise RuntimeError(f"server did not start: {line!r} {stderr.read() if process.poll() is not None else ''}")
        running = Server(process, int(line.split()[1]))
        reader = threading.Thread(target=lambda: running.errors.extend(stderr), daemon=True)
        reader.start()
        yield running
    finally:
        stdin.close()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def raise_own_open_files(wanted: int) -> bool:
    """Let this (client) process open `wanted` sockets; False if the hard limit forbids it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= wanted:
        return True
    if hard != resource.RLIM_INFINITY and hard < wanted:
        return False
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return True


def get(port: int, path: str = "/api/status", token: str | None = TOKEN, timeout: float = 20.0) -> int:
    """One real request on a connection of its own: its status code."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"Authorization": f"Bearer {token}"} if token else {})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def simultaneous(port: int, n: int = 200, timeout: float = 20.0) -> tuple[list[int | None], float]:
    """n clients send a request at the same moment and keep their connections open (keep-alive)
    until all are answered: (each one's status or None, seconds until the last answer)."""
    statuses: list[int | None] = [None] * n
    answered: list[float] = [0.0] * n
    ready = threading.Barrier(n + 1)
    done = threading.Barrier(n + 1)

    def client(i: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        try:
            ready.wait()
            connection.request("GET", "/api/status", headers={"Authorization": f"Bearer {TOKEN}"})
            response = connection.getresponse()
            response.read()
            statuses[i] = response.status
            answered[i] = time.monotonic()
        except (OSError, http.client.HTTPException, threading.BrokenBarrierError):
            pass
        finally:
            try:
                done.wait(timeout + 5)
            except threading.BrokenBarrierError:
                pass
            connection.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(n)]
    for thread in threads:
        thread.start()
    ready.wait(timeout)
    start = time.monotonic()
    try:
        done.wait(timeout + 5)
    except threading.BrokenBarrierError:
        pass
    for thread in threads:
        thread.join(timeout)
    return statuses, max(answered) - start if all(answered) else float("inf")


class Tricklers:
    """`n` slowloris clients: each sends a request line at once, then one header line every
    `every_s` seconds, never finishing. Counts those the server has closed (refused or dropped)."""

    def __init__(self, port: int, n: int, every_s: float = 2.0) -> None:
        self.port = port
        self.n = n
        self.every_s = every_s
        self.socks: list[socket.socket] = []
        self.connect_failures = 0
        self.closed_by_server = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._trickle, name="tricklers", daemon=True)

    def connect(self, timeout: float = 20.0, pace_s: float = 0.0) -> float:
        """Open all n, one every `pace_s` (0: at once), non-blocking; the seconds until every one
        was connected or refused. Those still not connected after `timeout` count as connect_failures."""
        start = time.monotonic()
        head = f"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n".encode()
        selector = selectors.DefaultSelector()
        for i in range(self.n):
            if pace_s:
                time.sleep(max(0.0, start + i * pace_s - time.monotonic()))
            sock = socket.socket()
            sock.setblocking(False)
            if sock.connect_ex(("127.0.0.1", self.port)) not in (0, errno.EINPROGRESS):
                self.connect_failures += 1
                sock.close()
                continue
            selector.register(sock, selectors.EVENT_WRITE)
        deadline = start + timeout
        while selector.get_map() and (left := deadline - time.monotonic()) > 0:
            for key, _ in selector.select(left):
                ready = key.fileobj
                assert isinstance(ready, socket.socket)  # only sockets were registered
                selector.unregister(ready)
                try:
                    if ready.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                        raise ConnectionRefusedError
                    ready.send(head)
                except OSError:
                    self.connect_failures += 1
                    ready.close()
                    continue
                self.socks.append(ready)
        elapsed = time.monotonic() - start
        for key in list(selector.get_map().values()):
            self.connect_failures += 1
            assert isinstance(key.fileobj, socket.socket)
            key.fileobj.close()
        selector.close()
        self._thread.start()
        return elapsed

    def _trickle(self) -> None:
        i = 0
        while not self._stop.wait(self.every_s):
            i += 1
            for sock in list(self.socks):
                try:
                    sock.send(f"X-Slow-{i}: 1\r\n".encode())
                    sock.recv(4096)  # anything at all (a 503, end of file) means the server let go
                except BlockingIOError:
                    continue  # still held, still waiting for the rest of our headers
                except OSError:
                    pass
                self.closed_by_server += 1
                self.socks.remove(sock)
                sock.close()

    def still_connected(self) -> int:
        return len(self.socks)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(self.every_s + 5)
        for sock in self.socks:
            sock.close()
        self.socks = []
