"""The broker URL of `--mqtt`: mqtt://[user[:password]@]host[:port], or mqtts:// for TLS.

Parsed once, when the settings are read, so a typo is one line before anything starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from edge_app.errors import EdgeAppError

SCHEMES = {"mqtt": 1883, "mqtts": 8883}
_HINT = "use mqtt://[user[:password]@]host[:port] or mqtts://... for TLS, e.g. mqtt://homeassistant.local"


@dataclass(frozen=True)
class MqttUrl:
    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None

    @property
    def scheme(self) -> str:
        return "mqtts" if self.tls else "mqtt"

    def text(self, redact: bool = True) -> str:
        """The URL back as text; the password as *** unless asked (logs and `config show` never leak it)."""
        auth = ""
        if self.username is not None:
            auth = quote(self.username, safe="")
            if self.password is not None:
                auth += ":" + ("***" if redact else quote(self.password, safe=""))
            auth += "@"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{auth}{host}:{self.port}"

    def __str__(self) -> str:
        return self.text()


def parse_mqtt_url(text: str) -> MqttUrl:
    value = text.strip()
    if "://" not in value:
        raise EdgeAppError(f"bad MQTT URL {text!r}: no scheme", _HINT)
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:  # a port that is not a number or out of range
        raise EdgeAppError(f"bad MQTT URL {text!r}: {exc}", _HINT) from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise EdgeAppError(f"bad MQTT URL {text!r}: the scheme must be mqtt or mqtts, not {parts.scheme!r}", _HINT)
    if not parts.hostname:
        raise EdgeAppError(f"bad MQTT URL {text!r}: no host", _HINT)
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise EdgeAppError(
            f"bad MQTT URL {text!r}: a broker URL has no path; set the topic prefix with mqtt_topic_prefix", _HINT
        )
    username = unquote(parts.username) if parts.username is not None else None
    password = unquote(parts.password) if parts.password is not None else None
    return MqttUrl(parts.hostname, port or SCHEMES[scheme], scheme == "mqtts", username or None, password)


def format_mqtt_url(url: MqttUrl) -> str:
    return url.text()
