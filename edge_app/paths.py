"""Where edge-app keeps things on disk, in one place: the service's config file, and the
per-user folders the XDG base-directory convention names."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

SYSTEM_CONFIG = Path("/etc/edge-app/config.toml")
SERVICE_STATE = Path("/var/lib/edge-app")  # the unit's StateDirectory=edge-app


def xdg_dir(kind: str, fallback: str, environ: Mapping[str, str] | None = None) -> Path:
    """$XDG_<KIND>_HOME/edge-app, else ~/<fallback>/edge-app (XDG_CACHE_HOME, .cache, ...)."""
    environ = os.environ if environ is None else environ
    base = environ.get(f"XDG_{kind}_HOME") or str(Path.home() / fallback)
    return Path(base) / "edge-app"


def state_dir(explicit: str | None = None, environ: Mapping[str, str] | None = None) -> Path:
    """Where edge-app keeps what it learns and generates (taught models, examples, the LAN token):
    --state-dir, else systemd's StateDirectory ($STATE_DIRECTORY), else $XDG_STATE_HOME/edge-app
    (~/.local/state/edge-app)."""
    environ = os.environ if environ is None else environ
    if explicit:
        return Path(explicit).expanduser()
    if environ.get("STATE_DIRECTORY"):
        return Path(environ["STATE_DIRECTORY"].split(":")[0])
    return xdg_dir("STATE", ".local/state", environ)
