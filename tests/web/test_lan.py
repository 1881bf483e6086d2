"""The live view safe on a LAN, over real sockets: the token on a 0.0.0.0 bind (file, Bearer,
link, cookie), /healthz open, security headers, cross-site refusal, guessing slowed, the Host
check on loopback too, http_auth = "none", and HTTPS with a certificate made here by openssl."""

from __future__ import annotations

import http.client
import json
import logging
import shutil
import socket
import ssl
import stat
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from edge_app.address import parse_address
from edge_app.cli import main
from edge_app.endpoints import Reply, Request, Route
from edge_app.errors import EdgeAppError
from edge_app.settings import resolve
from edge_app.sinks.registry import SinkContext
from edge_app.web.sink import HttpSink, from_config
from tests.helpers.live_view import FakeStatus, Feeder, MjpegViewer, get, wait_until
from tests.helpers.needs import unavailable

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def echo(request: Request) -> Reply:
    return Reply.json({"method": request.method, "size": len(request.body)})


ROUTES = (  # as features add them (teaching, metrics): protected without saying so
    Route("POST", "/api/things", echo, max_body=1000),
    Route("GET", "/metrics", lambda _: Reply(200, b"frames_total 1\n")),
)


class State:
    def __init__(self) -> None:
        self.status = FakeStatus()


class Lan:
    """A live view built from settings as `edge-app run` builds it, fed at 30 fps."""

    def __init__(self, tmp_path: Path, **given: Any) -> None:
        self.state = tmp_path / "state"
        self.settings = resolve({"state_dir": str(self.state), **given}, None, environ={})
        self.context = SinkContext(State(), lambda: None, ROUTES, self.state)  # type: ignore[arg-type]  # a fake state: just a status
        self.sink = from_config(self.settings.output, self.context)
        self.sink.start(threading.Event())
        self.feeder = Feeder(self.sink.frame, fps=30.0, size=(320, 240))
        self.feeder.start()
        self.port = self.sink.port
        path = self.state / "http-token"
        self.token = path.read_text().strip() if path.exists() else ""

    @property
    def cookie(self) -> str:
        return f"edge_app_{self.port}={self.token}"

    def call(
        self, method: str, path: str, body: bytes | None = None, **headers: str
    ) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request(
                method, path, body=body, headers={name.replace("_", "-"): value for name, value in headers.items()}
            )
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def close(self) -> None:
        self.feeder.close()
        self.sink.close()

    def __enter__(self) -> Lan:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@pytest.fixture
def lan(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> Iterator[Lan]:
    caplog.set_level(logging.INFO)
    view = Lan(tmp_path, http="0.0.0.0:0")
    yield view
    view.close()


def raw(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        return b"".join(iter(lambda: sock.recv(65536), b""))


def test_a_lan_bind_makes_a_private_token_and_logs_how_to_get_in(
    lan: Lan, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = lan.state / "http-token"
    assert len(lan.token) >= 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    log = "\n".join(record.getMessage() for record in caplog.get_records("setup"))
    assert (
        "live view on the network: http://" in log
        and "127.0.0.1" not in log.split("live view on the network:")[1].splitlines()[0]
    )
    assert f":{lan.port}/?token={lan.token} once" in log and str(path) in log
    caplog.clear()
    with Lan(tmp_path, http="0.0.0.0:0") as again:  # the next start keeps it, and only says where it is
        assert again.token == lan.token
        assert lan.token not in caplog.text and f"the access token is in {path}" in caplog.text


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),
        ("GET", "/index.html"),
        ("GET", "/stream.mjpg"),
        ("GET", "/snapshot.jpg"),
        ("GET", "/api/status"),
        ("GET", "/metrics"),
        ("POST", "/api/things"),
        ("GET", "/nope"),
        ("HEAD", "/"),
    ],
)
def test_without_the_token_everything_but_healthz_is_401(lan: Lan, method: str, path: str) -> None:
    code, headers, body = lan.call(method, path, b"{}" if method == "POST" else None)
    assert code == 401 and headers["WWW-Authenticate"] == 'Bearer realm="edge-app"'
    assert method == "HEAD" or json.loads(body) == {"error": "this live view needs its access token"}


def test_healthz_stays_open_and_says_only_ok_or_not(lan: Lan) -> None:
    assert lan.call("GET", "/healthz")[::2] == (200, b"ok\n")
    status = lan.context.state.status
    assert isinstance(status, FakeStatus)  # Lan's fake state
    status.data.update(healthy=False, reason="camera lost 31 s ago")
    assert lan.call("GET", "/healthz")[::2] == (503, b"unhealthy\n")  # no reasons for strangers
    assert lan.call("GET", "/favicon.ico")[0] == 204


def test_a_browser_without_the_token_gets_a_small_form(lan: Lan) -> None:
    code, headers, body = lan.call("GET", "/", Accept="text/html,application/xhtml+xml")
    page = body.decode()
    assert code == 401 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert '<form id="login" method="get"' in page and 'name="token"' in page and 'type="password"' in page
    assert "http://" not in page and "https://" not in page  # self-contained
    wrong = lan.call("GET", "/?token=nope", Accept="text/html")[2].decode()
    assert "that token is not right" in wrong


def test_bearer_link_and_cookie_all_work(lan: Lan) -> None:
    assert lan.call("GET", "/api/status", Authorization=f"Bearer {lan.token}")[0] == 200
    assert lan.call("GET", "/metrics", Authorization=f"Bearer {lan.token}")[::2] == (200, b"frames_total 1\n")
    code, headers, _ = lan.call("GET", f"/?token={lan.token}")
    assert code == 303 and headers["Location"] == "./"
    assert headers["Set-Cookie"] == f"{lan.cookie}; Max-Age=34560000; Path=/; HttpOnly; SameSite=Strict"
    assert lan.call("GET", f"/snapshot.jpg?token={lan.token}&t=1")[1]["Location"] == "./snapshot.jpg?t=1"
    assert lan.call("GET", "/", Cookie=lan.cookie)[0] == 200
    code, headers, body = lan.call("GET", "/snapshot.jpg", Cookie=lan.cookie)
    assert code == 200 and headers["Content-Type"] == "image/jpeg" and body[:2] == b"\xff\xd8"
    viewer = MjpegViewer(
        f"http://127.0.0.1:{lan.port}/", headers={"Cookie": lan.cookie}
    )  # what <img src=stream.mjpg> sends
    viewer.start()
    try:
        assert wait_until(lambda: len(viewer.arrivals) >= 3, timeout=10.0), viewer.error
    finally:
        viewer.close()


def test_security_headers_on_every_answer(lan: Lan) -> None:
    answers = [
        lan.call("GET", "/", Cookie=lan.cookie),
        lan.call("GET", "/snapshot.jpg", Cookie=lan.cookie),
        lan.call("GET", "/api/status", Cookie=lan.cookie),
        lan.call("GET", "/api/status"),
        lan.call("GET", "/nope", Cookie=lan.cookie),
        lan.call("GET", "/healthz"),
        lan.call("GET", "/", Host="attacker.example"),
    ]
    for code, headers, _ in answers:
        assert HEADERS.items() <= headers.items(), (code, headers)
    too_many = "".join(f"X-{i}: {i}\r\n" for i in range(101))
    malformed = raw(
        lan.port, f"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n{too_many}\r\n".encode()
    )  # http.server's own error page
    assert malformed.startswith(b"HTTP/1.1 431") and b"X-Frame-Options: DENY" in malformed and b"nosniff" in malformed


def test_a_cross_site_post_with_the_cookie_is_403_and_our_own_page_may_post(lan: Lan) -> None:
    origin = f"http://127.0.0.1:{lan.port}"
    assert lan.call("POST", "/api/things", b"{}", Cookie=lan.cookie, Origin="http://evil.example")[0] == 403
    assert lan.call("POST", "/api/things", b"{}", Cookie=lan.cookie, Sec_Fetch_Site="cross-site")[0] == 403
    assert lan.call("POST", "/api/things", b"{}", Cookie=lan.cookie)[0] == 403  # a cookie must say where it comes from
    assert lan.call("POST", "/api/things", b"{}", Cookie=lan.cookie, Origin=origin)[0] == 200
    assert lan.call("POST", "/api/things", b"{}", Cookie=lan.cookie, Referer=origin + "/")[0] == 200
    assert (
        lan.call("POST", "/api/things", b"{}", Cookie=lan.cookie, Origin="null", Sec_Fetch_Site="same-origin")[0] == 200
    )
    assert lan.call("POST", "/api/things", b"{}", Authorization=f"Bearer {lan.token}")[0] == 200  # a script


def test_40_wrong_guesses_bring_429(lan: Lan) -> None:
    codes = [lan.call("GET", "/api/status", Authorization=f"Bearer guess-{i}")[0] for i in range(40)]
    assert set(codes) == {401, 429} and codes[:3] == [401] * 3 and codes[-1] == 429
    code, headers, _ = lan.call("GET", "/api/status", Authorization=f"Bearer {lan.token}")
    assert code == 429 and int(headers["Retry-After"]) > 0  # a guesser learns nothing from the right one either
    assert lan.call("GET", "/healthz")[0] == 200


def test_loopback_needs_no_token_but_refuses_a_foreign_host(tmp_path: Path) -> None:
    with Lan(tmp_path, http="127.0.0.1:0") as view:
        assert view.call("GET", "/api/status")[0] == 200
        assert view.call("GET", "/api/status", Host=f"localhost:{view.port}")[0] == 200
        for path in ("/", "/api/status", "/snapshot.jpg", "/healthz"):
            code, _, body = view.call("GET", path, Host=f"attacker.example:{view.port}")
            assert code == 403 and b"attacker.example" in body
        assert raw(view.port, b"GET /healthz HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 400")  # HTTP/1.1 needs a Host
        assert (
            view.call("POST", "/api/things", b"{}", Origin="http://evil.example")[0] == 403
        )  # forged through a local browser
        assert not (view.state / "http-token").exists()


def test_http_hosts_admits_the_names_the_user_gives(tmp_path: Path) -> None:
    with Lan(tmp_path, http="127.0.0.1:0", http_hosts="cam.example.com") as view:
        assert view.call("GET", "/api/status", Host=f"cam.example.com:{view.port}")[0] == 200
        assert view.call("GET", "/api/status", Host="other.example.com")[0] == 403


def test_http_auth_none_is_open_and_warned_about_at_every_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    with Lan(tmp_path, http="0.0.0.0:0", http_auth="none") as view:
        assert view.call("GET", "/api/status")[0] == 200
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert any('http_auth = "none": anyone who can reach' in w for w in warnings)
        assert not (view.state / "http-token").exists()


def test_http_auth_always_wants_the_token_on_loopback_too(tmp_path: Path) -> None:
    with Lan(tmp_path, http="127.0.0.1:0", http_auth="always") as view:
        assert view.call("GET", "/api/status")[0] == 401
        assert view.call("GET", "/api/status", Authorization=f"Bearer {view.token}")[0] == 200


def test_edge_app_token_prints_the_token_and_a_sign_in_link(
    lan: Lan, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[output]\nhttp = "0.0.0.0:8080"\n')
    with pytest.raises(SystemExit) as done:
        main(["token", "--config", str(config), "--state-dir", str(lan.state)])
    out = capsys.readouterr().out.splitlines()
    assert done.value.code in (0, None)
    assert out[0] == lan.token
    links = [line for line in out if line.startswith("sign a browser in once with: http://")]
    assert links and all(line.endswith(f":{lan.port}/?token={lan.token}") for line in links)  # where it serves
    assert "127.0.0.1" not in "".join(links)
    assert out[-1] == f"kept in {lan.state / 'http-token'}"
    (lan.state / "http-urls").unlink()  # a run from before the URLs were noted: the config's address
    main_exit(["token", "--config", str(config), "--state-dir", str(lan.state)])
    assert any(line.endswith(f":8080/?token={lan.token}") for line in capsys.readouterr().out.splitlines())
    with pytest.raises(SystemExit) as done:
        main(["token", "--state-dir", str(tmp_path / "none")])
    assert done.value.code == 2 and capsys.readouterr().err.startswith("edge-app: error: no live view token in ")


def main_exit(args: list[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(args)
    assert done.value.code in (0, None)


def test_edge_app_token_links_to_a_view_started_with_http_on_the_command_line(
    lan: Lan, capsys: pytest.CaptureFixture[str]
) -> None:
    """No config names the LAN address (it was --http 0.0.0.0:PORT): the links still come, from the run."""
    main_exit(["token", "--state-dir", str(lan.state)])
    out = capsys.readouterr().out.splitlines()
    assert out[0] == lan.token
    links = [line for line in out if line.startswith("sign a browser in once with: http")]
    assert links and all(line.endswith(f":{lan.port}/?token={lan.token}") for line in links)


def test_the_log_leads_with_the_lan_url_and_a_loopback_bind_is_not_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    with Lan(tmp_path, http="0.0.0.0:0") as view:
        urls = [r.getMessage() for r in caplog.records if "http://" in r.getMessage()]
        assert urls and "127.0.0.1" not in urls[0].split("(")[0]
        assert any(m.startswith("live view: http://") and f"also http://127.0.0.1:{view.port}/" in m for m in urls)
    caplog.clear()
    with Lan(tmp_path / "other", http="127.0.0.2:0") as view:  # loopback too: no token, and no warning
        assert not (view.state / "http-token").exists()
        connection = http.client.HTTPConnection("127.0.0.2", view.port, timeout=10)
        try:
            connection.request("GET", "/api/status")
            assert connection.getresponse().status == 200
        finally:
            connection.close()
        assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text


def test_service_status_says_where_the_token_is(tmp_path: Path) -> None:
    from edge_app.install.status import live_view_line

    config = tmp_path / "config.toml"
    config.write_text('[output]\nhttp = "0.0.0.0:8080"\n')
    assert live_view_line(config, hostname="pi").endswith(
        "; it asks for the access token: sudo edge-app token --service"
    )
    config.write_text('[output]\nhttp = "0.0.0.0:8080"\nhttp_auth = "none"\n')
    assert "token" not in live_view_line(config, hostname="pi")


# -- HTTPS

OPENSSL = shutil.which("openssl")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if OPENSSL is None:
        unavailable("the openssl command is not installed (.ci/run installs it)")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            OPENSSL,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


def https(port: int, cert: Path, method: str, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    context = ssl.create_default_context(cafile=str(cert))
    connection = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10)
    try:
        connection.request(method, path, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read(2000 if path.startswith("/stream") else None)
    finally:
        connection.close()


def test_https_with_a_certificate(
    tmp_path: Path, certificate: tuple[Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    cert, key = certificate
    caplog.set_level(logging.INFO)
    with Lan(tmp_path, http="0.0.0.0:0", tls_cert=str(cert), tls_key=str(key)) as view:
        assert view.sink.url == f"https://127.0.0.1:{view.port}/" and "https://" in caplog.text
        assert https(view.port, cert, "GET", "/api/status")[0] == 401
        assert https(view.port, cert, "GET", "/api/status", Authorization=f"Bearer {view.token}")[0] == 200
        code, headers, _ = https(view.port, cert, "GET", f"/?token={view.token}")
        assert code == 303 and headers["Set-Cookie"].endswith("; Secure")
        code, headers, body = https(view.port, cert, "GET", "/stream.mjpg", Cookie=view.cookie)
        assert code == 200 and b"Content-Type: image/jpeg" in body
        plain = raw(view.port, f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{view.port}\r\n\r\n".encode())
        assert plain.startswith(b"HTTP/1.1 400") and b"use https://" in plain


def test_tls_settings_that_cannot_work_are_one_line_errors(tmp_path: Path, certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    with pytest.raises(EdgeAppError, match="tls_cert and tls_key go together"):
        Lan(tmp_path, http="0.0.0.0:0", tls_cert=str(cert))
    with pytest.raises(EdgeAppError, match="not a PEM certificate and its key"):
        Lan(tmp_path, http="0.0.0.0:0", tls_cert=str(key), tls_key=str(cert))
    with pytest.raises(EdgeAppError, match="cannot read .*missing.pem"):
        Lan(tmp_path, http="0.0.0.0:0", tls_cert=str(tmp_path / "missing.pem"), tls_key=str(key))


def test_a_sink_built_by_hand_on_a_lan_address_is_locked() -> None:
    sink = HttpSink(parse_address("0.0.0.0:0"), FakeStatus())
    sink.start(threading.Event())
    try:
        assert get(sink.url, "/api/status")[0] == 401
    finally:
        sink.close()
