"""Where the real models and photos are: ../shared next to this checkout, or $EDGE_APP_SHARED.

Read at import (conftest clears EDGE_APP_* variables before each test), by the tests and by
benchmarks/, which put tests/ on their path.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("EDGE_APP_SHARED") or ROOT.parent / "shared")
MODELS = SHARED / "models"
IMAGES = SHARED / "images"
IMAGENET100 = SHARED / "imagenet-100"

# Top-1 out of 100 on imagenet-100, measured with the bare interpreter and OpenCV's INTER_LINEAR_EXACT
# resize, which gives the same pixels on x86_64 and aarch64 (tools/check-aarch64.sh): model -> (central
# 87.5 % crop, squash), in catalog order. ../shared/README.md's table was measured with INTER_LINEAR, whose
# rounding differs by architecture, so its counts are 1 to 3 off these.
IMAGENET100_TOP1 = {
    "tf2_mobilenet_v2_1.0_224_ptq": (89, 84),
    "mobilenet_v2_1.0_224_quant": (85, 85),
    "mobilenet_v1_0.75_192_quant": (77, 73),
    "mobilenet_v1_0.5_160_quant": (69, 68),
    "mobilenet_v1_0.25_128_quant": (46, 47),
}


def shared_missing() -> str | None:
    """Why the shared data cannot be used here, or None when it can."""
    absent = [folder.name for folder in (MODELS, IMAGES, IMAGENET100) if not folder.is_dir()]
    if absent:
        return (
            f"shared data not found: no {', '.join(absent)} in {SHARED} (put ../shared next to the checkout or "
            "set EDGE_APP_SHARED)"
        )
    return None
