"""[output]: the live view, the window, events, the recording, and when a run stops."""

from __future__ import annotations

from dataclasses import dataclass

from edge_app.address import AUTH_MODES, BindAddress, format_address, parse_address, parse_hosts
from edge_app.settings.keys import setting
from edge_app.settings.sections.panels import OUTPUT

DEFAULT_LIVE_VIEW = "127.0.0.1:8080"
YEAR_S = 366 * 24 * 3600.0  # duration's bound: 1e12 s overflows time_t in a wait


@dataclass(frozen=True)
class OutputConfig:
    http: BindAddress | None = setting(
        None,
        "Serve the live view at PORT or HOST:PORT (a bare port binds 127.0.0.1; 0.0.0.0:PORT for the "
        "LAN); with no output set at all, it is " + DEFAULT_LIVE_VIEW + ".",
        parse=parse_address,
        show=format_address,
        panel=OUTPUT,
        example="0.0.0.0:8080",
    )
    http_auth: str = setting(
        "token",
        "Who may use the live view: token (any bind but loopback needs the access token; `edge-app token` "
        "shows it), always (loopback too, e.g. behind a reverse proxy), none (anyone who reaches it: "
        "trusted networks only).",
        choices=AUTH_MODES,
        panel=OUTPUT,
    )
    http_hosts: tuple[str, ...] | None = setting(
        None,
        "Host names browsers may use for the live view besides this machine's (its addresses, hostname, "
        "hostname.local, localhost), comma-separated: e.g. a DNS name or a reverse proxy's.",
        parse=parse_hosts,
        show=",".join,
        panel=OUTPUT,
        example="cam.example.com",
    )
    tls_cert: str | None = setting(
        None,
        "Serve the live view over HTTPS with this PEM certificate (and tls_key).",
        panel=OUTPUT,
        example="/etc/edge-app/cert.pem",
    )
    tls_key: str | None = setting(
        None, "The PEM private key of tls_cert.", panel=OUTPUT, example="/etc/edge-app/key.pem"
    )
    display: bool = setting(False, "Show a local window (needs OpenCV with GUI and a screen).", panel=OUTPUT)
    events: str | None = setting(
        None,
        "Append one JSON line per result to this file, or - for stdout.",
        panel=OUTPUT,
        example="/var/lib/edge-app/events.jsonl",
    )
    record: str | None = setting(
        None,
        "Record the annotated video to this file (.mp4 or .avi).",
        panel=OUTPUT,
        example="/var/lib/edge-app/recording.mp4",
    )
    overlay: bool = setting(True, "Draw labels and stats onto the video.", panel=OUTPUT)
    smooth: int = setting(
        1,
        "Average scores over this many results, so labels do not flicker.",
        minimum=1,
        maximum=100,
        panel=OUTPUT,
    )
    max_frames: int | None = setting(None, "Stop after this many frames.", minimum=1, panel=OUTPUT, example=1000)
    duration: float | None = setting(
        None,
        "Stop after this many seconds (at most a year; unset: run until stopped).",
        minimum=0.0,
        maximum=YEAR_S,
        panel=OUTPUT,
        example=60.0,
    )

    @property
    def live_view(self) -> BindAddress | None:
        """Where the live view listens: --http, or, with no output chosen at all, the default
        local view (so `edge-app run` always has something to watch)."""
        if self.http is not None:
            return self.http
        if self.events or self.record or self.display:
            return None
        return parse_address(DEFAULT_LIVE_VIEW)

    @property
    def default_live_view(self) -> bool:
        """The view was not asked for: it may move to a free port when the default one is taken."""
        return self.http is None and self.live_view is not None
