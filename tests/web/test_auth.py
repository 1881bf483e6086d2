"""The access rules of the live view as plain decisions (no sockets): who needs a token, which
Host names are ours, which requests come from our own pages, how guessing is slowed, and the
token file."""

from __future__ import annotations

import logging
import os
import stat
from http import HTTPStatus
from pathlib import Path

import pytest

from edge_app.address import host_name, needs_token, parse_hosts
from edge_app.errors import EdgeAppError
from edge_app.web.auth import Access, Gate, GuessLimiter, Seen, host_allowed, same_origin, without_token
from edge_app.web.token import load_or_create_token, read_token, token_path

TOKEN = "s3cret-token-0123456789abcdef"


@pytest.mark.parametrize(
    ("mode", "host", "needed"),
    [
        ("token", "127.0.0.1", False),
        ("token", "127.0.1.1", False),
        ("token", "::1", False),
        ("token", "localhost", False),
        ("token", "0.0.0.0", True),
        ("token", "::", True),
        ("token", "192.168.1.20", True),
        ("token", "pi.local", True),
        ("always", "127.0.0.1", True),
        ("none", "0.0.0.0", False),
    ],
)
def test_the_bind_address_alone_decides_who_needs_a_token(mode: str, host: str, needed: bool) -> None:
    assert needs_token(mode, host) is needed


@pytest.mark.parametrize(
    ("value", "name"),
    [
        ("Pi.Local:8080", "pi.local"),
        ("pi.local.", "pi.local"),
        ("192.168.1.20", "192.168.1.20"),
        ("[::1]:8080", "::1"),
        ("[fe80::1]", "fe80::1"),
        ("::ffff:10.0.0.2", "10.0.0.2"),
        ("fd00::2", "fd00::2"),
        ("", None),
        ("a:b", None),
        ("[::1", None),
        ("[::1]x", None),
        ("evil.example/x", None),
        ("a b", None),
    ],
)
def test_host_names_are_normalised(value: str, name: str | None) -> None:
    assert host_name(value) == name


def test_the_connected_address_and_listed_names_are_ours_nothing_else() -> None:
    allowed = frozenset({"localhost", "pi.local"})
    assert host_allowed("192.168.1.20:8080", "192.168.1.20", allowed)  # what the client connected to
    assert host_allowed("10.0.0.2:8080", "::ffff:10.0.0.2", allowed)  # IPv4 through a [::] bind
    assert host_allowed("PI.local:8080", "192.168.1.20", allowed)
    assert not host_allowed("attacker.example", "127.0.0.1", allowed)  # DNS rebinding
    assert not host_allowed("192.168.1.21:8080", "192.168.1.20", allowed)
    assert not host_allowed("bad host", "127.0.0.1", allowed)


def test_http_hosts_setting() -> None:
    assert parse_hosts(" Cam.Example.com, 192.168.1.20,,cam.example.com ") == ("cam.example.com", "192.168.1.20")
    with pytest.raises(EdgeAppError, match="bad host name 'a/b'"):
        parse_hosts("ok.example,a/b")


@pytest.mark.parametrize(
    ("headers", "ours"),
    [
        ({"sec-fetch-site": "same-origin", "origin": "null"}, True),  # our page under Referrer-Policy: no-referrer
        ({"sec-fetch-site": "cross-site", "origin": "http://pi.local:8080"}, False),
        ({"sec-fetch-site": "same-site"}, False),  # another port of this host shares our cookie
        ({"origin": "http://pi.local:8080"}, True),
        ({"origin": "https://pi.local:443"}, False),  # another port than Host's
        ({"origin": "http://evil.example"}, False),
        ({"origin": "null"}, False),
        ({"referer": "http://pi.local:8080/index.html"}, True),
        ({"referer": "http://evil.example/pi.local:8080"}, False),
        ({}, None),  # curl, scripts
    ],
)
def test_same_origin_by_what_the_browser_says(headers: dict[str, str], ours: bool | None) -> None:
    assert same_origin(headers, "pi.local:8080") is ours


def test_default_ports_are_the_same_origin() -> None:
    assert same_origin({"origin": "https://cam.example.com"}, "cam.example.com:443") is True
    assert same_origin({"origin": "http://cam.example.com:80"}, "cam.example.com") is True


def test_the_limiter_blocks_an_address_after_ten_wrong_tokens_for_a_while() -> None:
    limiter = GuessLimiter(max_failures=10, window_s=60, block_s=60)
    for i in range(9):
        limiter.failed("10.0.0.9", now=i)
    assert limiter.wait("10.0.0.9", now=9) == 0
    limiter.failed("10.0.0.9", now=9)
    assert limiter.wait("10.0.0.9", now=10) == 59
    assert limiter.wait("10.0.0.8", now=10) == 0  # others are not punished
    assert limiter.wait("10.0.0.9", now=69) == 0


def test_wrong_tokens_spread_beyond_the_window_never_block() -> None:
    limiter = GuessLimiter(max_failures=3, window_s=10, block_s=60)
    for now in (0, 8, 16, 24, 32):
        limiter.failed("10.0.0.9", now)
    assert limiter.wait("10.0.0.9", 33) == 0


def test_the_limiter_remembers_a_bounded_number_of_addresses() -> None:
    limiter = GuessLimiter(max_failures=1, block_s=60, max_addresses=3)
    for i in range(5):
        limiter.failed(f"10.0.0.{i}", now=0)
    assert [limiter.wait(f"10.0.0.{i}", now=1) > 0 for i in range(5)] == [False, False, True, True, True]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def gate(token: str | None = TOKEN, clock: Clock | None = None) -> Gate:
    return Gate(Access(token, ("cam.example.com",)), 8080, ("pi", "pi.local"), clock=clock or Clock())


def seen(method: str = "GET", path: str = "/", query: dict[str, list[str]] | None = None, **headers: str) -> Seen:
    names = {name.replace("_", "-"): value for name, value in headers.items()}
    names.setdefault("host", "192.168.1.20:8080")
    return Seen(method, path, query or {}, names, local="192.168.1.20", peer="192.168.1.50")


def test_without_a_token_the_gate_asks_for_it() -> None:
    verdict = gate().check(seen())
    assert (verdict.status, verdict.login) == (HTTPStatus.UNAUTHORIZED, True)


def test_bearer_and_cookie_let_in() -> None:
    g = gate()
    assert g.check(seen(authorization=f"Bearer {TOKEN}")).ok
    assert g.check(seen(authorization=f"bearer  {TOKEN} ")).ok
    assert g.check(seen(cookie=f"other=1; edge_app_8080={TOKEN}")).ok
    assert not g.check(seen(cookie=f"edge_app_9090={TOKEN}")).ok  # another server's cookie


def test_a_link_sets_a_strict_http_only_cookie_and_redirects_without_the_token() -> None:
    verdict = gate().check(seen(path="/snapshot.jpg", query={"token": [TOKEN], "t": ["5"]}))
    assert verdict.status == HTTPStatus.SEE_OTHER and verdict.location == "./snapshot.jpg?t=5"
    assert verdict.cookie == f"edge_app_8080={TOKEN}; Max-Age=34560000; Path=/; HttpOnly; SameSite=Strict"
    secure = Gate(Access(TOKEN), 8443, secure=True).check(seen(query={"token": [TOKEN]}))
    assert secure.location == "./" and secure.cookie.endswith("; Secure")


def test_a_good_link_wins_over_a_stale_cookie() -> None:
    assert (
        gate().check(seen(query={"token": [TOKEN]}, cookie="edge_app_8080=old-token-0123456789")).status
        == HTTPStatus.SEE_OTHER
    )


def test_ten_wrong_tokens_bring_429_even_for_the_right_one_then_it_passes() -> None:
    clock = Clock()
    g = gate(clock=clock)
    answers = [g.check(seen(authorization="Bearer wrong")).status for _ in range(12)]
    assert answers == [HTTPStatus.UNAUTHORIZED] * 10 + [HTTPStatus.TOO_MANY_REQUESTS] * 2
    blocked = g.check(seen(authorization=f"Bearer {TOKEN}"))
    assert blocked.status == HTTPStatus.TOO_MANY_REQUESTS and blocked.retry_after == 60
    clock.now += 61
    assert g.check(seen(authorization=f"Bearer {TOKEN}")).ok


def test_the_host_check_comes_first_and_applies_everywhere() -> None:
    for g in (gate(), gate(token=None)):
        foreign = Seen(
            "GET", "/healthz", {}, {"host": "attacker.example"}, local="127.0.0.1", peer="127.0.0.1", public=True
        )
        assert g.check(foreign).status == HTTPStatus.FORBIDDEN
    assert gate(token=None).check(seen(host="cam.example.com")).ok
    assert gate(token=None).check(seen(host="pi.local:8080")).ok


def test_a_missing_host_is_refused_except_from_http_1_0_clients() -> None:
    g = gate(token=None)
    assert g.check(Seen("GET", "/", {}, {}, local="127.0.0.1", peer="127.0.0.1")).status == HTTPStatus.BAD_REQUEST
    assert g.check(Seen("GET", "/", {}, {}, local="127.0.0.1", peer="127.0.0.1", version="HTTP/1.0")).ok


def test_public_routes_need_no_token() -> None:
    assert (
        gate().check(Seen("GET", "/healthz", {}, {"host": "pi.local"}, local="192.168.1.20", peer="x", public=True)).ok
    )


@pytest.mark.parametrize(
    ("token", "headers", "status"),
    [
        (TOKEN, {"cookie": f"edge_app_8080={TOKEN}", "origin": "http://evil.example"}, HTTPStatus.FORBIDDEN),
        (TOKEN, {"cookie": f"edge_app_8080={TOKEN}"}, HTTPStatus.FORBIDDEN),  # a cookie must prove where it comes from
        (TOKEN, {"cookie": f"edge_app_8080={TOKEN}", "origin": "http://192.168.1.20:8080"}, HTTPStatus.OK),
        (TOKEN, {"cookie": f"edge_app_8080={TOKEN}", "sec-fetch-site": "same-origin", "origin": "null"}, HTTPStatus.OK),
        (TOKEN, {"authorization": f"Bearer {TOKEN}"}, HTTPStatus.OK),  # scripts: no browser, no forgery
        (
            None,
            {"origin": "http://evil.example"},
            HTTPStatus.FORBIDDEN,
        ),  # a loopback view is forged through the user's browser too
        (None, {"sec-fetch-site": "cross-site"}, HTTPStatus.FORBIDDEN),
        (None, {}, HTTPStatus.OK),
    ],
)
def test_state_changing_requests_from_other_sites_are_refused(
    token: str | None, headers: dict[str, str], status: int
) -> None:
    assert gate(token).check(seen("POST", "/api/teach/x", None, **headers)).status == status
    assert (
        gate(token).check(seen("GET", "/api/status", None, **{**headers, "authorization": f"Bearer {TOKEN}"})).ok
    )  # reading is not changing


def test_the_redirect_is_relative_so_a_proxy_prefix_survives() -> None:
    assert without_token("/", {"token": ["x"]}) == "./"
    assert without_token("/api/status", {"token": ["x"], "a": ["1", "2"]}) == "./status?a=1&a=2"


# -- the token file


def test_the_token_is_made_once_private_and_random(tmp_path: Path) -> None:
    state = tmp_path / "state"
    token, made = load_or_create_token(state)
    assert made and len(token) >= 32 and token_path(state).read_text() == token + "\n"
    assert stat.S_IMODE(token_path(state).stat().st_mode) == 0o600
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    assert load_or_create_token(state) == (token, False)
    assert load_or_create_token(tmp_path / "other")[0] != token


def test_the_token_file_is_private_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        load_or_create_token(tmp_path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(token_path(tmp_path).stat().st_mode) == 0o600


def test_a_readable_token_file_is_tightened_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = token_path(tmp_path)
    path.write_text("my-own-token-0123456789\n")
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING):
        assert load_or_create_token(tmp_path) == ("my-own-token-0123456789", False)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and "readable by others" in caplog.text


def test_an_empty_file_left_by_a_crash_is_replaced_and_a_bad_one_refused(tmp_path: Path) -> None:
    token_path(tmp_path).write_text("")
    assert load_or_create_token(tmp_path)[1]
    token_path(tmp_path).write_text("short\n")
    with pytest.raises(EdgeAppError, match="not usable; delete the file"):
        load_or_create_token(tmp_path)
    assert read_token(tmp_path / "nothing") is None
