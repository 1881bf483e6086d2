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
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.loopback import NETGUARD, fail_if_reached_out, netguard
from tests.helpers.needs import OUTPUT, unavailable
from tests.helpers.shared_data import MODELS, shared_missing


def pytest_configure(config: pytest.Config) -> None:
    """Every test run starts as from a terminal, and reaches no other machine.

    Started with SIGINT ignored (nohup, a background job, some CI runners), Python gives no
    KeyboardInterrupt, and every child inherits the ignore. Python's own handler here means a
    child gets the default disposition at exec, so Ctrl-C tests behave the same everywhere.
    The network guard covers this process, and Python children through PYTHONPATH."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    fd, log = tempfile.mkstemp(prefix="edge-app-netguard-", suffix=".log")
    os.close(fd)
    os.environ[netguard.LOG_ENV] = log
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(NETGUARD), os.environ.get("PYTHONPATH")]))
    netguard.install()


def pytest_unconfigure(config: pytest.Config) -> None:
    log = os.environ.pop(netguard.LOG_ENV, None)
    if log:
        Path(log).unlink(missing_ok=True)


@pytest.fixture(autouse=True)
def _loopback_only() -> Iterator[None]:
    netguard.take()
    yield
    fail_if_reached_out()


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
def _no_system_config(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests never read the machine's /etc/edge-app/config.toml, the developer's EDGE_APP_* settings
    or model cache: a test (or a child it starts) has the models it is given (`model_cache`), no others."""
    for key in list(os.environ):
        if key.startswith("EDGE_APP_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("EDGE_APP_CONFIG", os.devnull)
    monkeypatch.setenv("EDGE_APP_MODELS", str(tmp_path_factory.mktemp("no-models")))
