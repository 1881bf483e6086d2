"""Topic names: the device id, the device's own topics, and Home Assistant's discovery topics."""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass

from edge_app.errors import EdgeAppError

DEVICE_ID = re.compile(r"^[a-z0-9_-]+$")  # what Home Assistant allows in a discovery topic's node id
HA_STATUS_ONLINE = "online"  # Home Assistant's birth message on <discovery prefix>/status
ONLINE, OFFLINE = "online", "offline"


def slug(text: str) -> str:
    """'Kitchen Pi.local' -> 'kitchen_pi_local': lower case, [a-z0-9_-], never empty."""
    value = re.sub(r"[^a-z0-9_-]+", "_", text.strip().lower()).strip("_-")
    return value or "edge_app"


def default_device_id() -> str:
    """The hostname's slug (the part before the first dot), stable across reboots."""
    return slug(socket.gethostname().split(".")[0])


def parse_device_id(text: str) -> str:
    value = text.strip()
    if not DEVICE_ID.match(value):
        raise EdgeAppError(f"bad device id {text!r}: only a-z, 0-9, - and _", f"e.g. {slug(value)}")
    return value


def parse_topic_prefix(text: str) -> str:
    """A topic prefix: no wildcards, no empty levels ('edge-app/kitchen', not '/edge-app/')."""
    value = text.strip()
    if not value or any(c in value for c in "+#\0") or "" in value.split("/"):
        raise EdgeAppError(
            f"bad MQTT topic prefix {text!r}", "use levels separated by /, without + or #, e.g. edge-app/kitchen"
        )
    return value


@dataclass(frozen=True)
class Topics:
    device_id: str
    prefix: str  # the device's own topics live below it
    discovery_prefix: str = "homeassistant"

    @classmethod
    def of(cls, device_id: str, prefix: str | None = None, discovery_prefix: str = "homeassistant") -> Topics:
        return cls(device_id, prefix or f"edge-app/{device_id}", discovery_prefix)

    @property
    def availability(self) -> str:
        return f"{self.prefix}/availability"

    @property
    def state(self) -> str:
        return f"{self.prefix}/state"

    @property
    def snapshot(self) -> str:
        return f"{self.prefix}/snapshot"

    def region(self, camera: str, region: str) -> str:
        """A region's retained verified state: {"state", "score", "top", "since", ...}."""
        return f"{self.prefix}/regions/{slug(camera)}/{slug(region)}"

    @property
    def ha_status(self) -> str:
        """Where Home Assistant announces itself: answer its `online` with discovery again."""
        return f"{self.discovery_prefix}/status"

    def discovery(self, component: str, object_id: str) -> str:
        return f"{self.discovery_prefix}/{component}/{self.device_id}/{object_id}/config"
