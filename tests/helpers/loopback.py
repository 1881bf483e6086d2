"""The network guard (tests/netguard/sitecustomize.py) loaded into this process, and the check that a
test, or any Python child it started, reached no machine but this one."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

NETGUARD = Path(__file__).resolve().parents[1] / "netguard"


def _load_netguard() -> Any:
    spec = importlib.util.spec_from_file_location("netguard", NETGUARD / "sitecustomize.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


netguard = _load_netguard()


def fail_if_reached_out() -> None:
    """Fail the calling test if it, or a child it started, connected beyond this machine."""
    __tracebackhide__ = True
    reached = netguard.take()
    if reached:
        pytest.fail("a test must not reach beyond this machine: " + "; ".join(reached), pytrace=False)
