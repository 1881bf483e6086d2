"""[service]: logging, reconnecting, and where the state lives."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edge_app.paths import state_dir
from edge_app.settings.keys import setting


@dataclass(frozen=True)
class ServiceConfig:
    log_level: str = setting("info", "Logging detail.", choices=("debug", "info", "warning", "error"))
    reconnect_max: float = setting(
        10.0, "Longest wait between source reconnect attempts, seconds.", minimum=0.1, maximum=300.0
    )
    state_dir: str | None = setting(
        None,
        "Where taught models, examples and the LAN token are kept; unset: the unit's StateDirectory under "
        "systemd, else $XDG_STATE_HOME/edge-app (~/.local/state/edge-app).",
        example="/var/lib/edge-app",
    )

    @property
    def state_path(self) -> Path:
        return state_dir(self.state_dir)
