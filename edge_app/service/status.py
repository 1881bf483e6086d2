"""`edge-app service status`: systemd's view of the service, plus where to watch it."""

from __future__ import annotations

import socket
from pathlib import Path

from edge_app.errors import EdgeAppError

RESTART_HINT = "sudo systemctl restart edge-app"


def live_view_line(config: Path, hostname: str | None = None) -> str:
    """Where a browser reaches the live view, as the service's config file sets it up."""
    from edge_app.settings import read_config_file
    from edge_app.sinks.http_address import WILDCARDS, parse_address, url_for

    try:
        http = read_config_file(config).get("http")
    except EdgeAppError as exc:
        return f"live view: unknown ({exc.message})"
    if not http:
        return f'live view: off; to watch in a browser set  http = "0.0.0.0:8080"  under [output] in {config}, then: {RESTART_HINT}'
    address = parse_address(http)
    local = url_for(address.host, address.port)
    if address.host in WILDCARDS:
        name = hostname or socket.gethostname()
        return f"live view: http://{name}.local:{address.port}/ from other machines, {local} on this one"
    if address.host in ("127.0.0.1", "::1", "localhost"):
        return f'live view: {local} (this machine only; set http = "0.0.0.0:{address.port}" in {config} to watch from others)'
    return f"live view: {local}"
