"""Who may use the live view, decided per request from plain data: no sockets, no files.

The rules (issue 11, "Safe on a LAN"):
- A token is needed when the view is bound to anything but loopback. That is decided by the
  bind address, never by the client's address: a proxy on this machine would make every client
  look local.
- The token comes as `Authorization: Bearer T`, as a cookie, or once as `?token=T` on a GET,
  which sets the cookie (HttpOnly, SameSite=Strict) and redirects to the URL without it.
  Tokens are compared in constant time; an address that keeps guessing wrong gets 429.
- The Host header must name this server (the address the client connected to, localhost,
  this machine's name, or a name the user allows), on every bind: DNS rebinding would
  otherwise reach even a loopback view.
- A state-changing request from a browser must come from our own pages (Sec-Fetch-Site,
  Origin or Referer); one authenticated by the cookie must prove it.
- Public routes (/healthz) skip the token, never the Host check.
"""

from __future__ import annotations

import hmac
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import urlencode, urlsplit

from edge_app.address import LOOPBACK_NAMES, host_name

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
COOKIE_MAX_AGE_S = 400 * 24 * 3600  # the longest browsers keep a cookie: put it on a Pi, log in once
TOKEN_PARAM = "token"
NEEDS_TOKEN = "this live view needs its access token"  # no token given: not an error to show in red


def host_allowed(header: str, local: str, allowed: frozenset[str]) -> bool:
    """The address the client connected to is by definition ours; other names must be listed."""
    name = host_name(header)
    return name is not None and (name == host_name(local) or name in allowed)


def _origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return _authority(parts.netloc)


def _authority(netloc: str) -> str:
    text = netloc.lower().rsplit("@", 1)[-1]
    for default in (":80", ":443"):
        if text.endswith(default):
            return text[: -len(default)]
    return text


def same_origin(headers: Mapping[str, str], host: str) -> bool | None:
    """Did our own page make this request? True or False by what the browser says (Sec-Fetch-Site,
    then Origin, then Referer); None when nothing says (curl, scripts: not a browser's forgery).

    Sec-Fetch-Site comes first: our pages send Referrer-Policy: no-referrer, under which browsers
    send `Origin: null` and no Referer even on same-origin POSTs."""
    site = headers.get("sec-fetch-site")
    if site:
        return site == "same-origin"
    origin = headers.get("origin")
    if origin:
        return origin != "null" and _origin_of(origin) == _authority(host)
    referer = headers.get("referer")
    if referer:
        return _origin_of(referer) == _authority(host)
    return None


class GuessLimiter:
    """Too many wrong tokens from one address within `window_s`: that address waits `block_s`.

    Bounded: at most `max_addresses` are remembered (the least recently seen are forgotten).
    Successes reset nothing, so a valid viewer behind the same NAT cannot launder a guesser."""

    def __init__(
        self, max_failures: int = 10, window_s: float = 60.0, block_s: float = 60.0, max_addresses: int = 4096
    ) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self.block_s = block_s
        self.max_addresses = max_addresses
        self._lock = threading.Lock()
        self._seen: OrderedDict[str, tuple[int, float, float]] = (
            OrderedDict()
        )  # address -> (failures, first, blocked until)

    def wait(self, address: str, now: float) -> float:
        """Seconds this address must still wait; 0 when it may try."""
        with self._lock:
            entry = self._seen.get(address)
        return max(0.0, entry[2] - now) if entry else 0.0

    def failed(self, address: str, now: float) -> None:
        with self._lock:
            failures, first, until = self._seen.pop(address, (0, now, 0.0))
            if now - first > self.window_s:
                failures, first = 0, now
            failures += 1
            if failures >= self.max_failures:
                failures, first, until = 0, now, now + self.block_s
            self._seen[address] = (failures, first, until)
            while len(self._seen) > self.max_addresses:
                self._seen.popitem(last=False)


@dataclass(frozen=True)
class Access:
    """Who may watch, as the settings decide it: the token (None: anyone on the bind) and the
    names, besides this machine's own, that the Host header may carry."""

    token: str | None = None
    hosts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Seen:
    """One request as the gate sees it."""

    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]  # lower-case names
    local: str  # the address the client connected to (getsockname)
    peer: str  # the client's address, for the guess limiter only
    version: str = "HTTP/1.1"
    public: bool = False  # the route needs no token (/healthz)


@dataclass(frozen=True)
class Verdict:
    """OK: serve the route. Otherwise answer with `status` and `message`; `login`: a browser
    gets the token form; `location` and `cookie`: a ?token= link was good (303)."""

    status: int = HTTPStatus.OK
    message: str = ""
    login: bool = False
    retry_after: int = 0
    location: str = ""
    cookie: str = ""

    @property
    def ok(self) -> bool:
        return self.status == HTTPStatus.OK


OK = Verdict()


def presented(seen: Seen, cookie_name: str) -> tuple[str | None, str]:
    """(token, how): a ?token= link first (it may replace a stale cookie), then Bearer, then the cookie."""
    if seen.method in ("GET", "HEAD") and seen.query.get(TOKEN_PARAM):
        return seen.query[TOKEN_PARAM][0], "link"
    scheme, _, value = (seen.headers.get("authorization") or "").strip().partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip(), "bearer"
    for part in (seen.headers.get("cookie") or "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == cookie_name and value:
            return value.strip('"'), "cookie"
    return None, ""


def without_token(path: str, query: Mapping[str, list[str]]) -> str:
    """Where a good ?token= link redirects: the same URL without the token, relative so that it
    also works behind a reverse proxy that serves the view under a path prefix."""
    rest = {name: values for name, values in query.items() if name != TOKEN_PARAM}
    target = "./" + path.rsplit("/", 1)[-1]
    return target + ("?" + urlencode(rest, doseq=True) if rest else "")


@dataclass
class Gate:
    """Applies the rules above to each request; one per server (it owns the guess limiter)."""

    access: Access
    port: int
    machine_names: tuple[str, ...] = ()  # this machine's hostname and hostname.local
    secure: bool = False  # served over TLS: the cookie is marked Secure
    limiter: GuessLimiter = field(default_factory=GuessLimiter)
    clock: Callable[[], float] = time.monotonic

    def __post_init__(self) -> None:
        names = (*LOOPBACK_NAMES, *self.machine_names, *self.access.hosts)
        self.allowed = frozenset(filter(None, (host_name(name) for name in names)))
        self.cookie_name = f"edge_app_{self.port}"  # cookies are shared across ports: one per server

    @property
    def required(self) -> bool:
        return self.access.token is not None

    def check(self, seen: Seen) -> Verdict:
        host = seen.headers.get("host")
        if host is None:
            if seen.version == "HTTP/1.0":  # old clients may omit it; browsers never do
                host = seen.local
            else:
                return Verdict(HTTPStatus.BAD_REQUEST, "send a Host header")
        if not host_allowed(host, seen.local, self.allowed):
            return Verdict(
                HTTPStatus.FORBIDDEN,
                f"this server does not answer to the name {host!r}; to use it, add it to http_hosts",
            )
        if seen.public:
            return OK
        if self.access.token is None:
            return self._from_our_pages(seen, host, cookie=False)
        return self._authenticate(seen, host, self.access.token)

    def _authenticate(self, seen: Seen, host: str, token: str) -> Verdict:
        given, how = presented(seen, self.cookie_name)
        if given is None:
            return Verdict(HTTPStatus.UNAUTHORIZED, NEEDS_TOKEN, login=True)
        wait = self.limiter.wait(seen.peer, self.clock())
        if wait:
            return Verdict(
                HTTPStatus.TOO_MANY_REQUESTS,
                f"too many wrong tokens from {seen.peer}; try again in {math.ceil(wait)} s",
                login=True,
                retry_after=math.ceil(wait),
            )
        if not hmac.compare_digest(given.encode("utf-8", "replace"), token.encode()):
            self.limiter.failed(seen.peer, self.clock())
            return Verdict(HTTPStatus.UNAUTHORIZED, "that token is not right", login=True)
        if how == "link":
            return Verdict(
                HTTPStatus.SEE_OTHER,
                "signed in",
                location=without_token(seen.path, seen.query),
                cookie=self.cookie(token),
            )
        return self._from_our_pages(seen, host, cookie=how == "cookie")

    def _from_our_pages(self, seen: Seen, host: str, cookie: bool) -> Verdict:
        """Cross-site request forgery: a browser sends cookies along with other sites' requests."""
        if seen.method not in STATE_CHANGING:
            return OK
        ours = same_origin(seen.headers, host)
        if ours is False or (ours is None and cookie):
            return Verdict(HTTPStatus.FORBIDDEN, "cross-site request refused: send it from the live view's own page")
        return OK

    def cookie(self, token: str) -> str:
        secure = "; Secure" if self.secure else ""
        return f"{self.cookie_name}={token}; Max-Age={COOKIE_MAX_AGE_S}; Path=/; HttpOnly; SameSite=Strict{secure}"
