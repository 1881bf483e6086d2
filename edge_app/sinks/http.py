"""The browser live view: annotated MJPEG video, a snapshot, and live stats, over HTTP or HTTPS.

    sink = HttpSink(parse_address("8080"), state.status)  # binds 127.0.0.1:8080 now; a busy port is an EdgeAppError
    print(sink.url)
    sink.start(stop)                                       # serves until stop is set
    ...                                                    # the display thread calls sink.frame(...) per frame
    sink.close()

Routes: / (the page), /stream.mjpg, /snapshot.jpg, /api/status, /healthz, plus the routes features
add (http_routes.Route, through SinkContext.routes). Off loopback every one of them but /healthz
needs the access token (http_auth); from_config makes it and says in the log how to get in.
Nothing is encoded while nobody watches; see http_hub for the frame policy.
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

from edge_app.errors import EdgeAppError
from edge_app.frames import Frame, Result
from edge_app.paths import SERVICE_STATE
from edge_app.sinks.base import Sink
from edge_app.sinks.http_address import BindAddress, bind_error, lan_urls, url_for
from edge_app.sinks.http_auth import LOOPBACK_NAMES, Access, needs_token
from edge_app.sinks.http_hub import JpegHub, jpeg_encoder
from edge_app.sinks.http_limits import Limits
from edge_app.sinks.http_routes import Route

if TYPE_CHECKING:
    from edge_app.settings.sections.output import OutputConfig
    from edge_app.sinks.registry import SinkContext

log = logging.getLogger(__name__)

Status = Callable[[], dict[str, Any]]
MAKE_CERT = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 825 -subj /CN=$(hostname).local -addext subjectAltName=DNS:$(hostname).local -keyout key.pem -out cert.pem"


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
        from edge_app.sinks.http_server import LiveViewServer

        self.address = address
        if access is None:
            access = Access(secrets.token_urlsafe(32) if needs_token("token", address.host) else None)
        self.hub = JpegHub(jpeg_encoder(quality))
        try:
            server = LiveViewServer(
                self.address, self.hub, status, send_timeout, routes, access=access, tls=tls, limits=limits
            )
        except OSError as exc:
            raise bind_error(self.address, exc) from None
        self._server: LiveViewServer | None = server
        self.scheme = "https" if tls else "http"
        host, self.port = server.server_address[:2]
        self.url = url_for(host, self.port, self.scheme)
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

    def frame(self, image: np.ndarray, frame: Frame, result: Result | None) -> None:
        self.hub.put(image)

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


def access_for(settings: OutputConfig, address: BindAddress, state: Path) -> tuple[Access, Path | None, bool]:
    """(access, token file, made now): the token when the bind needs one, made on first use."""
    from edge_app.sinks.http_token import load_or_create_token, token_path

    hosts = settings.http_hosts or ()
    if not needs_token(settings.http_auth, address.host):
        return Access(None, hosts), None, False
    token, made = load_or_create_token(state)
    return Access(token, hosts), token_path(state), made


def access_lines(sink: HttpSink, access: Access, path: Path | None, made: bool, mode: str) -> list[tuple[int, str]]:
    """What the log says about reaching the view: the LAN URLs and how to get in (level, text)."""
    local = sink.address.host.lower() in LOOPBACK_NAMES
    if local and access.token is None:
        return []
    urls = lan_urls(sink.address, sink.port, sink.scheme) or [sink.url]
    where = " or ".join(urls)
    if access.token is None:
        return [
            (
                logging.WARNING,
                f'live view: http_auth = "{mode}": anyone who can reach {where} can watch this camera; set http_auth = "token" unless this network is trusted',
            )
        ]
    lines = [(logging.INFO, f"live view on the network: {where} (it asks for the access token)")]
    if made:
        lines.append(
            (
                logging.INFO,
                f"live view: made an access token, kept in {path}; open {urls[0]}?token={access.token} once in each browser (it is remembered)",
            )
        )
    else:
        command = (
            "sudo edge-app token --service" if path is not None and path.parent == SERVICE_STATE else "edge-app token"
        )
        lines.append(
            (logging.INFO, f"live view: the access token is in {path} (show it and a sign-in link with: {command})")
        )
    return lines


def from_config(settings: OutputConfig, context: SinkContext) -> HttpSink:
    """--http, or the default local view; the default moves to a free port when its own is
    taken (the log names the URL), an asked-for address never does."""
    address = settings.live_view
    assert address is not None
    tls = tls_context(settings.tls_cert, settings.tls_key)
    access, path, made = access_for(settings, address, context.state_dir)
    try:
        sink = HttpSink(address, context.state.status, routes=context.routes, access=access, tls=tls)
    except EdgeAppError:
        if not settings.default_live_view:
            raise
        sink = HttpSink(replace(address, port=0), context.state.status, routes=context.routes, access=access, tls=tls)
    for level, line in access_lines(sink, access, path, made, settings.http_auth):
        log.log(level, line)
    return sink
