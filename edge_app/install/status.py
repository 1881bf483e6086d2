"""`edge-app service status`: systemd's view of the service, plus where to watch it."""

from __future__ import annotations

import socket
from pathlib import Path

from edge_app.errors import EdgeAppError

RESTART_HINT = "sudo systemctl restart edge-app"


def live_view_line(config: Path, hostname: str | None = None) -> str:
    """Where a browser reaches the live view, as the service's config file sets it up (with the
    same rule as `run`: no output at all means the default local view)."""
    from edge_app.address import LOOPBACK_NAMES, WILDCARDS, needs_token, url_for
    from edge_app.settings import resolve

    try:
        settings = resolve({}, config, environ={})
    except EdgeAppError as exc:
        return f"live view: unknown ({exc.message})"
    address = settings.live_view
    if address is None:
        return (
            f'live view: off; to watch in a browser set  http = "0.0.0.0:8080"  under [output] in {config}, '
            f"then: {RESTART_HINT}"
        )
    scheme = "https" if settings.tls_cert else "http"
    local = url_for(address.host, address.port, scheme)
    token = (
        "; it asks for the access token: sudo edge-app token --service"
        if needs_token(settings.http_auth, address.host)
        else ""
    )
    if address.host in WILDCARDS:
        name = hostname or socket.gethostname()
        return (
            f"live view: {url_for(f'{name}.local', address.port, scheme)} from other machines, {local} on this "
            f"one{token}"
        )
    if address.host in LOOPBACK_NAMES:
        default = " by default, as no output is set" if settings.default_live_view else ""
        return (
            f'live view: {local}{default} (this machine only; set http = "0.0.0.0:{address.port}" in {config} '
            "to watch from others)"
        )
    return f"live view: {local}{token}"
