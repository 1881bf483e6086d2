"""What a test needs from this machine: a tool, the shared data. Missing, the test skips with the
reason; under EDGE_APP_REQUIRE_TOOLS=1 (CI) it fails instead, so a bare machine cannot silently drop tests."""

from __future__ import annotations

import os
import shutil
from typing import NoReturn

import pytest

from tests.helpers.shared_data import ROOT

OUTPUT = ROOT / "test-output"  # screenshots and other artefacts worth looking at after a run
# Read at import: conftest's autouse fixture clears EDGE_APP_* variables before each test.
REQUIRE_TOOLS = os.environ.get("EDGE_APP_REQUIRE_TOOLS") == "1"


def unavailable(reason: str) -> NoReturn:
    """Skip the calling test or fixture because something it needs is missing here;
    under EDGE_APP_REQUIRE_TOOLS=1 (CI) fail instead."""
    __tracebackhide__ = True  # the skip is reported at the test that asked
    if REQUIRE_TOOLS:
        pytest.fail(f"{reason}; EDGE_APP_REQUIRE_TOOLS=1 requires it", pytrace=False)
    pytest.skip(reason)


def require_tool(name: str, hint: str = "", path: str | None = None) -> str:
    """The path of program `name` (searched in `path`, default $PATH), or `unavailable` (skip, or
    fail in CI) when it is not installed."""
    __tracebackhide__ = True
    path = shutil.which(name, path=path)
    if path is None:
        unavailable(f"{name} not installed" + (f" ({hint})" if hint else ""))
    return path
