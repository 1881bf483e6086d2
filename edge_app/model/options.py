"""How to open a model, as plain values: cheap to import (settings builds it from the config)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

MAX_THREADS = 64  # per count (threads, lanes, workers): no board this runs on gains past it; LiteRT crashes on 100000


@dataclass(frozen=True)
class ModelOptions:
    model: str | None = None  # catalog name or .tflite path; None = the catalog default
    labels: Path | None = None
    runtime: str = "auto"
    delegate: str | None = None  # cpu | edgetpu | auto; None = auto, quiet when no Coral is attached
    device: str | None = None
    threads: int | None = None  # None = every core
    resize: str = "crop"
    top_k: int = 3
    threshold: float = 0.0
