"""Shared fixtures. Real models and photos come from ../shared, read where they lie."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
MODELS = SHARED / "models"
IMAGES = SHARED / "images"
IMAGENET100 = SHARED / "imagenet-100"
OUTPUT = ROOT / "test-output"  # screenshots and other artefacts worth looking at after a run


def pytest_configure(config: pytest.Config) -> None:
    if not MODELS.is_dir():
        raise pytest.UsageError(f"shared data not found at {SHARED}: tests read real models and photos from there")


@pytest.fixture
def model_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A model cache seeded from ../shared/models (symlinks), so catalog names resolve offline."""
    cache = tmp_path / "models"
    cache.mkdir()
    for model in MODELS.glob("*.tflite"):
        (cache / model.name).symlink_to(model)
    monkeypatch.setenv("EDGE_APP_MODELS", str(cache))
    monkeypatch.setenv("EDGE_APP_MODEL_MIRROR", "http://127.0.0.1:9/")  # a fetch in a test fails fast, never reaches out
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
