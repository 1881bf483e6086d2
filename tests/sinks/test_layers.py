"""The layers hold: what each package may load, checked in a fresh interpreter."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from edge_app.sinks.registry import OUTPUTS
from edge_app.sources.factory import KINDS


def loaded_after(module: str, prefixes: tuple[str, ...]) -> list[str]:
    code = f"import sys, {module}; print(sorted(m for m in sys.modules if m.startswith({prefixes!r})))"
    return eval(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


def test_the_pipeline_loads_nothing_of_the_service_the_installer_or_the_cli() -> None:
    assert loaded_after("edge_app.pipeline", ("edge_app.service", "edge_app.install", "edge_app.cli")) == []


def test_sources_do_not_reach_into_the_model() -> None:
    for module in ("edge_app.sources.synthetic", "edge_app.sources.slideshow", "edge_app.sources.factory"):
        assert loaded_after(module, ("edge_app.model",)) == [], module


def test_the_service_runtime_loads_nothing_of_the_installer() -> None:
    assert loaded_after("edge_app.service.watchdog", ("edge_app.install", "edge_app.cli", "edge_app.pipeline")) == []


@pytest.mark.parametrize("module", sorted({kind.module for kind in KINDS}))
def test_every_source_kind_has_a_builder(module: str) -> None:
    assert callable(importlib.import_module(module).from_spec)


@pytest.mark.parametrize("module", [output.module for output in OUTPUTS])
def test_every_output_has_a_builder(module: str) -> None:
    assert callable(importlib.import_module(module).from_config)
