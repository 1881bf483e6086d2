"""Where the real models and photos are: ../shared next to this checkout, or $EDGE_APP_SHARED.

Read at import (conftest clears EDGE_APP_* variables before each test), by the tests and by
benchmarks/, which put tests/ on their path.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("EDGE_APP_SHARED") or ROOT.parent / "shared")
MODELS = SHARED / "models"
IMAGES = SHARED / "images"
IMAGENET100 = SHARED / "imagenet-100"


def shared_missing() -> str | None:
    """Why the shared data cannot be used here, or None when it can."""
    absent = [folder.name for folder in (MODELS, IMAGES, IMAGENET100) if not folder.is_dir()]
    if absent:
        return (
            f"shared data not found: no {', '.join(absent)} in {SHARED} (put ../shared next to the checkout or "
            "set EDGE_APP_SHARED)"
        )
    return None
