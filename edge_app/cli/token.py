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
        bool, typer.Option("--service", help="The installed service's token (in /var/lib/edge-app; run with sudo).")
    ] = False,
) -> None:
    """Print the live view's access token (first line), then sign-in links and the token file.

    The token is made by `edge-app run` the first time it serves the live view beyond this
    machine; the same --config and --state-dir find it. To change it, delete the file and restart.
    """
    from edge_app.address import BindAddress, lan_urls, needs_token
    from edge_app.errors import EdgeAppError
    from edge_app.paths import SERVICE_STATE
    from edge_app.settings import resolve
    from edge_app.web.token import read_token, read_urls, token_path

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
            "edge-app makes one when it first serves the live view beyond this machine, "
            f"e.g. with --http 0.0.0.0:8080{other}",
        )
    print(value)
    scheme = "https" if settings.tls_cert else "http"
    address = settings.live_view
    configured = address is not None and needs_token(settings.http_auth, address.host)
    urls = read_urls(state)  # where the run that uses this token serves
    if not urls and address is not None and configured:
        urls = lan_urls(address, address.port, scheme)
    guessed = not urls
    if guessed:  # a run given --http on its command line, before it noted its URLs: its port is a guess
        port = address.port if address is not None else 8080
        urls = lan_urls(BindAddress("0.0.0.0", port), port, scheme)
    for url in urls:
        print(f"sign a browser in once with: {url}?token={value}")
    if guessed and urls:
        print("(the port is a guess: use the one edge-app run was given with --http)")
    print(f"kept in {path}")


def register(app: typer.Typer) -> None:
    app.command()(token)
