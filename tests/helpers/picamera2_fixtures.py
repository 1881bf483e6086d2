"""Fixtures that put the fake `picamera2` (tests/fakes/picamera2) in place of the real one, or none."""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType

import pytest

FAKES = Path(__file__).resolve().parents[1] / "fakes"


@pytest.fixture
def picamera2(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """A fresh fake `picamera2` package (its test knobs reset), found before any real one."""
    for name in [m for m in sys.modules if m == "picamera2" or m.startswith("picamera2.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.syspath_prepend(str(FAKES))
    import picamera2 as fake

    assert Path(fake.__file__).parent == FAKES / "picamera2"
    return fake


@pytest.fixture
def no_picamera2(monkeypatch: pytest.MonkeyPatch) -> None:
    """`import picamera2` raises ImportError, as on a PC or a venv without system packages."""
    monkeypatch.setitem(sys.modules, "picamera2", None)
