"""Shared fixtures, and what a test needs from this machine.

Real models and photos come from ../shared (or $EDGE_APP_SHARED), read where they lie. Tests
that read them are marked `shared` (those using `model_cache` count as marked); where the data
is missing they skip with the reason and every other test still runs. Tools a test drives
(systemd-analyze, Chromium) are asked for with `require_tool` or `unavailable`, which skip the
same way. Under EDGE_APP_REQUIRE_TOOLS=1 (CI) each of these skips is a failure instead, so a
machine without the data or a tool cannot silently drop tests.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import NoReturn

import pytest
from shared_data import IMAGENET100, IMAGES, MODELS, ROOT, SHARED, shared_missing  # noqa: F401 (re-exported for tests)

OUTPUT = ROOT / "test-output"  # screenshots and other artefacts worth looking at after a run
# Read at import: the autouse fixture below clears EDGE_APP_* variables before each test.
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


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("shared") or "model_cache" in getattr(item, "fixturenames", ()):
        reason = shared_missing()
        if reason:
            unavailable(reason)


@pytest.fixture
def model_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A model cache seeded from ../shared/models (symlinks), so catalog names resolve offline."""
    cache = tmp_path / "models"
    cache.mkdir()
    for model in MODELS.glob("*.tflite"):
        (cache / model.name).symlink_to(model)
    monkeypatch.setenv("EDGE_APP_MODELS", str(cache))
    monkeypatch.setenv(
        "EDGE_APP_MODEL_MIRROR", "http://127.0.0.1:9/"
    )  # a fetch in a test fails fast, never reaches out
    return cache


@pytest.fixture
def output_dir() -> Path:
    OUTPUT.mkdir(exist_ok=True)
    return OUTPUT


@pytest.fixture(autouse=True)
def _no_system_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never read the machine's /etc/edge-app/config.toml or the developer's EDGE_APP_* settings."""
    for key in list(os.environ):
        if key.startswith("EDGE_APP_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("EDGE_APP_CONFIG", os.devnull)
