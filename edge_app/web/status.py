"""Turning the pipeline's status dict into the live view's JSON and health answers (pure)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any


def _clean(value: Any) -> Any:
    """JSON that browsers can parse: NaN/inf become null, numpy scalars and the like become plain values."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(key): _clean(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(item) for item in value]
    if value is None or isinstance(value, (str, int)):
        return value
    item = getattr(value, "item", None)  # numpy scalar
    if callable(item):
        return _clean(item())
    return str(value)


def status_json(status: Mapping[str, Any], stream: Mapping[str, Any]) -> bytes:
    return json.dumps(_clean({**status, "stream": stream}), allow_nan=False).encode()


def health(status: Mapping[str, Any]) -> tuple[bool, str]:
    """(healthy, reason): the pipeline's own reason when it gives one, else its state."""
    if status.get("healthy", True):
        return True, "ok"
    reason = status.get("reason") or status.get("state") or "unhealthy"
    return False, str(reason)
