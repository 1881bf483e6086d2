"""Bind address parsing and bind errors for the live view."""

from __future__ import annotations

import errno
import socket
import threading

import pytest

from edge_app.address import BindAddress, parse_address, url_for
from edge_app.errors import EdgeAppError
from edge_app.web.address import bind_error
from edge_app.web.sink import HttpSink


@pytest.mark.parametrize(
    ("text", "host", "port"),
    [
        ("8080", "127.0.0.1", 8080),  # a bare port never exposes the camera to the network
        (":8080", "127.0.0.1", 8080),
        (" 0 ", "127.0.0.1", 0),
        ("0.0.0.0:8080", "0.0.0.0", 8080),
        ("localhost:9000", "localhost", 9000),
        ("raspberrypi.local:80", "raspberrypi.local", 80),
        ("[::1]:8080", "::1", 8080),
        ("[::]:0", "::", 0),
    ],
)
def test_parse_address(text: str, host: str, port: int) -> None:
    assert parse_address(text) == BindAddress(host, port)


@pytest.mark.parametrize(
    "text", ["", "http", "host:", "host:http", "8080:host", "70000", "-1", "::1:8080", "[::1]8080", "[::1"]
)
def test_bad_addresses_say_what_to_write(text: str) -> None:
    with pytest.raises(EdgeAppError) as caught:
        parse_address(text)
    assert "HOST:PORT" in str(caught.value) and "\n" not in str(caught.value)


def test_family_follows_the_host() -> None:
    assert parse_address("[::1]:1").family == socket.AF_INET6
    assert parse_address("1").family == socket.AF_INET


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:8080/"),
        ("0.0.0.0", "http://127.0.0.1:8080/"),
        ("::", "http://[::1]:8080/"),
        ("::1", "http://[::1]:8080/"),
    ],
)
def test_url_reaches_the_server_from_this_machine(host: str, url: str) -> None:
    assert url_for(host, 8080) == url


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (OSError(errno.EADDRINUSE, "Address already in use"), "port 80 is in use; stop the program"),
        (OSError(errno.EACCES, "Permission denied"), "port 80 needs root"),
        (OSError(errno.EADDRNOTAVAIL, "Cannot assign requested address"), "not an address of this machine"),
        (socket.gaierror(-2, "Name or service not known"), "not an address of this machine"),
        (OSError(errno.EINVAL, "Invalid argument"), "cannot listen on 10.9.8.7:80 (Invalid argument)"),
    ],
)
def test_bind_errors_are_one_line_with_a_hint(error: OSError, words: str) -> None:
    message = str(bind_error(BindAddress("10.9.8.7", 80), error))
    assert words in message and "; " in message and "\n" not in message


def test_a_busy_port_is_a_user_error_before_anything_starts() -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        with pytest.raises(EdgeAppError, match=f"port {port} is in use; "):
            HttpSink(parse_address(str(port)), status=dict)


def test_a_sink_never_started_still_closes() -> None:
    sink = HttpSink(parse_address("0"), status=dict)  # e.g. the camera failed to open after the sinks were built
    port = sink.port
    sink.close()
    with socket.socket() as again:
        again.bind(("127.0.0.1", port))  # the port was released


def test_port_zero_picks_a_free_port_and_publishes_the_url() -> None:
    sink = HttpSink(parse_address("0"), status=dict)
    assert sink.port > 0 and sink.url == f"http://127.0.0.1:{sink.port}/"  # known before start(), for the log
    sink.start(threading.Event())
    try:
        with socket.create_connection(("127.0.0.1", sink.port), timeout=2):
            pass
    finally:
        sink.close()
    with pytest.raises(OSError):  # closed means closed: the port is free again
        socket.create_connection(("127.0.0.1", sink.port), timeout=2).close()


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _ipv6_loopback(), reason="this machine has no IPv6 loopback")
def test_the_ipv6_wildcard_serves_ipv4_too() -> None:
    sink = HttpSink(parse_address("[::]:0"), status=dict)
    sink.start(threading.Event())
    try:
        assert sink.url == f"http://[::1]:{sink.port}/"
        for host in ("::1", "127.0.0.1"):
            with socket.create_connection((host, sink.port), timeout=2) as sock:
                sock.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
                assert sock.makefile("rb").readline().startswith(b"HTTP/1.1 200")
    finally:
        sink.close()
