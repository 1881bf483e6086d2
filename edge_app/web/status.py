"""The status service: the pipeline's status dict as the live view's JSON and health answers."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any

from edge_app.endpoints import JSON, Reply, Route

log = logging.getLogger(__name__)


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


def status_routes(
    status: Callable[[], Mapping[str, Any]], stream: Callable[[], Mapping[str, Any]], terse: bool
) -> list[Route]:
    """/api/status and /healthz. /healthz is public: with `terse` (a token is needed) it says
    only ok or unhealthy, no reasons."""

    def answer(health_only: bool) -> Reply:
        try:
            current = status()
        except Exception as exc:  # a bug in the pipeline's status(): say so, keep serving
            log.warning("live view: status() failed: %s", exc, exc_info=True)
            code = HTTPStatus.SERVICE_UNAVAILABLE if health_only else HTTPStatus.INTERNAL_SERVER_ERROR
            return Reply(code, b"unhealthy\n" if health_only and terse else f"status unavailable: {exc}\n".encode())
        if not health_only:
            return Reply(HTTPStatus.OK, status_json(current, stream()), JSON)
        ok, reason = health(current)
        text = ("ok" if ok else "unhealthy") if terse else reason
        return Reply(HTTPStatus.OK if ok else HTTPStatus.SERVICE_UNAVAILABLE, f"{text}\n".encode())

    return [
        Route("GET", "/api/status", lambda _: answer(health_only=False)),
        Route("GET", "/healthz", lambda _: answer(health_only=True), public=True),
    ]
