"""`edge-app token`: the live view's access token, and a link that signs a browser in."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from edge_app.cli import options as opt


def token(
    config: opt.ConfigFile = None,
    state_dir: Annotated[
        Path | None, typer.Option("--state-dir", help="The state folder `edge-app run` was given, if any.")
    ] = None,
    service: Annotated[
        bool,
        typer.Option(
            "--service", metavar="", help="The installed service's token (in /var/lib/edge-app; run with sudo)."
        ),
    ] = False,
) -> None:
    """Print the live view's access token (first line), then sign-in links and the token file.

    The token is made by `edge-app run` the first time it serves the live view beyond this
    machine; the same --config and --state-dir find it. To change it, delete the file and restart.
    """
    from edge_app.errors import EdgeAppError
    from edge_app.paths import SERVICE_STATE
    from edge_app.settings import resolve
    from edge_app.sinks.http_address import lan_urls
    from edge_app.sinks.http_auth import needs_token
    from edge_app.sinks.http_token import read_token, token_path

    if service:  # the service's config file, as its unit names it; its state is the unit's StateDirectory
        from edge_app.install.plan import installed_request

        service_config = config or installed_request().config
        settings = resolve({}, service_config if service_config.is_file() else None, environ={})
        state = state_dir or SERVICE_STATE
    else:
        settings = resolve({"state_dir": str(state_dir) if state_dir else None}, config)
        state = settings.state_path
    path = token_path(state)
    value = read_token(path)
    if value is None:
        other = "" if service else "; for the service: sudo edge-app token --service"
        raise EdgeAppError(
            f"no live view token in {state} yet",
            f"edge-app makes one when it first serves the live view beyond this machine, e.g. with --http 0.0.0.0:8080{other}",
        )
    print(value)
    address = settings.output.live_view
    if address is not None and needs_token(settings.output.http_auth, address.host):
        scheme = "https" if settings.output.tls_cert else "http"
        for url in lan_urls(address, address.port, scheme):
            print(f"sign a browser in once with: {url}?token={value}")
    print(f"kept in {path}")


def register(app: typer.Typer) -> None:
    app.command()(token)
