"""The browser live view: annotated MJPEG video, a snapshot, and live stats, over HTTP or HTTPS.

    sink = HttpSink(parse_address("8080"), state.status)  # binds 127.0.0.1:8080 now; a busy port is an EdgeAppError
    print(sink.url)
    sink.start(stop)                                       # serves until stop is set
    ...                                                    # the display thread calls sink.frame(...) per frame
    sink.close()

Routes: / (the page), /stream.mjpg, /snapshot.jpg, /api/status, /healthz, plus the routes features
add (routes.Route, through SinkContext.routes). Off loopback every one of them but /healthz
needs the access token (http_auth); from_settings makes it and says in the log how to get in.
Nothing is encoded while nobody watches; see hub for the frame policy.
"""

from __future__ import annotations

import logging
import secrets
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from edge_app.address import BindAddress, is_loopback, lan_urls, needs_token, url_for
from edge_app.endpoints import Route
from edge_app.errors import EdgeAppError
from edge_app.frames import Frame, Result
from edge_app.paths import SERVICE_STATE
from edge_app.sinks.base import Sink
from edge_app.web.address import bind_error
from edge_app.web.auth import Access
from edge_app.web.hub import JpegHub, jpeg_encoder
from edge_app.web.limits import Limits

if TYPE_CHECKING:
    from edge_app.settings import Settings
    from edge_app.sinks.registry import SinkContext

log = logging.getLogger(__name__)

Status = Callable[[], dict[str, Any]]
MAKE_CERT = (
    "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 825 -subj /CN=$(hostname).local"
    " -addext subjectAltName=DNS:$(hostname).local -keyout key.pem -out cert.pem"
)


class HttpSink(Sink):
    def __init__(
        self,
        address: BindAddress,
        status: Status,
        *,
        routes: Sequence[Route] = (),
        quality: int = 80,
        send_timeout: float = 10.0,
        access: Access | None = None,
        tls: ssl.SSLContext | None = None,
        limits: Limits | None = None,
    ) -> None:
        """Binds at once, so a busy port is reported before the camera is opened. Without
        `access`, a loopback bind is open and any other is locked by a token nobody knows."""
        from edge_app.web.pages import page_routes
        from edge_app.web.server import LiveViewServer
        from edge_app.web.status import status_routes
        from edge_app.web.video import video_routes

        self.address = address
        if access is None:
            access = Access(secrets.token_urlsafe(32) if needs_token("token", address.host) else None)
        self.hub = JpegHub(jpeg_encoder(quality))
        own = [
            *page_routes(),
            *video_routes(self.hub),
            *status_routes(status, self.hub.stats, terse=access.token is not None),
        ]
        try:
            server = LiveViewServer(
                self.address, [*own, *routes], access=access, send_timeout=send_timeout, tls=tls, limits=limits
            )
        except OSError as exc:
            raise bind_error(self.address, exc) from None
        self.hub.on_publish(server.streams.wake)
        self._server: LiveViewServer | None = server
        self.scheme = "https" if tls else "http"
        host, self.port = server.server_address[:2]
        self.url = url_for(host, self.port, self.scheme)
        self.lan = [] if is_loopback(address.host) else lan_urls(address, self.port, self.scheme)
        self._threads: list[threading.Thread] = []

    def start(self, stop: threading.Event, lossless: bool = False) -> None:
        """Serve. Live view only: `lossless` changes nothing, viewers always skip to the newest frame."""
        assert self._server is not None
        self._threads = [
            threading.Thread(target=self.hub.run, args=(stop,), name="http-encoder", daemon=True),
            threading.Thread(target=self._server.serve, args=(stop,), name="http-server", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        if self.lan:  # what other machines open comes first; this machine's own address after it
            log.info("live view: %s (on this machine also %s)", " or ".join(self.lan), self.url)
        else:
            log.info("live view: %s", self.url)

    def frame(self, image: np.ndarray, frame: Frame, result: Result | None) -> None:
        self.hub.put(image)

    def stats(self) -> dict[str, object]:
        return self.hub.stats()

    def close(self, timeout: float = 2.0) -> None:
        if self._server is None:
            return
        deadline = time.monotonic() + timeout
        self.hub.close()  # wakes the encoder and every viewer
        self._server.stop()  # wakes the acceptor, which closes every connection it holds
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._server.close(max(0.0, deadline - time.monotonic()))
        self._server = None

    @property
    def held(self) -> int:
        """Connections open and waiting for a request (slow, idle or kept alive); 0 once closed."""
        return self._server.acceptor.held if self._server is not None else 0


def tls_context(cert: str | None, key: str | None) -> ssl.SSLContext | None:
    """HTTPS from tls_cert and tls_key (PEM), or None for plain HTTP."""
    if not cert and not key:
        return None
    if not (cert and key):
        raise EdgeAppError(
            "tls_cert and tls_key go together",
            "set both, a PEM certificate and its private key, or neither for plain HTTP",
        )

    def no_passphrase() -> bytes:
        raise EdgeAppError(
            f"the TLS key {key} is encrypted",
            "give edge-app a key without a passphrase (openssl pkey -in KEY -out plain.pem)",
        )

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key, password=no_passphrase)
    except ssl.SSLError as exc:
        raise EdgeAppError(
            f"{cert} and {key} are not a PEM certificate and its key ({exc.reason or exc})",
            f"make a pair with: {MAKE_CERT}",
        ) from None
    except OSError as exc:
        raise EdgeAppError(
            f"cannot read {exc.filename or cert} ({exc.strerror})",
            "check tls_cert and tls_key, and that the service user may read them",
        ) from None
    return context


def access_for(settings: Settings, address: BindAddress) -> tuple[Access, Path | None, bool]:
    """(access, token file, made now): the token when the bind needs one, made on first use."""
    from edge_app.web.token import load_or_create_token, token_path

    hosts = settings.http_hosts or ()
    if not needs_token(settings.http_auth, address.host):
        return Access(None, hosts), None, False
    token, made = load_or_create_token(settings.state_path)
    return Access(token, hosts), token_path(settings.state_path), made


def access_lines(sink: HttpSink, access: Access, path: Path | None, made: bool, mode: str) -> list[tuple[int, str]]:
    """What the log says about reaching the view, before it starts (level, text): where other
    machines reach it, first, and how to get in."""
    if is_loopback(sink.address.host):
        if access.token is None:
            return []  # only this machine reaches it: nothing to warn about, nothing to sign in with
        lines = [(logging.INFO, f"live view on this machine only: {sink.url} (it asks for the access token)")]
        return lines + sign_in_lines(sink.url, access.token, path, made)
    urls = lan_urls(sink.address, sink.port, sink.scheme)
    where = " or ".join(urls) if urls else f"port {sink.port} of this machine's addresses (none found yet)"
    if access.token is None:
        warning = (
            f'live view: http_auth = "{mode}": anyone who can reach {where} can watch this camera; '
            'set http_auth = "token" unless this network is trusted'
        )
        return [(logging.WARNING, warning)]
    lines = [(logging.INFO, f"live view on the network: {where} (it asks for the access token)")]
    return lines + sign_in_lines(urls[0] if urls else sink.url, access.token, path, made)


def sign_in_lines(url: str, token: str, path: Path | None, made: bool) -> list[tuple[int, str]]:
    """A new token's sign-in link (once: the journal keeps what it is given), else where the token is."""
    if made:
        text = f"live view: made an access token, kept in {path}; open {url}?token={token} once in each browser"
        return [(logging.INFO, f"{text} (it is remembered)")]
    service = path is not None and path.parent == SERVICE_STATE
    command = "sudo edge-app token --service" if service else "edge-app token"
    return [(logging.INFO, f"live view: the access token is in {path} (show it and a sign-in link with: {command})")]


def from_settings(settings: Settings, context: SinkContext) -> HttpSink:
    """--http, or the default local view; the default moves to a free port when its own is
    taken (the log names the URL), an asked-for address never does."""
    address = settings.live_view
    assert address is not None
    tls = tls_context(settings.tls_cert, settings.tls_key)
    access, path, made = access_for(settings, address)
    try:
        sink = HttpSink(address, context.state.status, routes=context.routes, access=access, tls=tls)
    except EdgeAppError:
        if not settings.default_live_view:
            raise
        sink = HttpSink(replace(address, port=0), context.state.status, routes=context.routes, access=access, tls=tls)
    for level, line in access_lines(sink, access, path, made, settings.http_auth):
        log.log(level, line)
    if path is not None:
        from edge_app.web.token import save_urls

        save_urls(path.parent, sink.lan or [sink.url])
    return sink
