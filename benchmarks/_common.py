"""Helpers shared by the benchmark scripts: shared data paths and test videos."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.helpers.videos makes videos from the shared photos

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from tests.helpers.shared_data import IMAGES, MODELS, SHARED  # noqa: E402,F401  (../shared, or $EDGE_APP_SHARED)
from tests.helpers.videos import make_video  # noqa: E402

os.environ.setdefault("EDGE_APP_MODELS", str(MODELS))  # catalog names resolve to ../shared/models, offline


def video(path: Path, frames: int, fps: float = 30.0) -> Path:
    if not path.exists():
        print(f"making {frames}-frame 640x480 video {path} ...", file=sys.stderr)
        make_video(path, frames, fps=fps)
    return path


def ratio_line(name: str, ours: float, baseline: float, target: float, unit: str = "fps") -> str:
    ratio = ours / baseline if baseline else float("nan")
    verdict = "ok" if ratio >= target else "BELOW TARGET"
    return (
        f"{name:<42} ours {ours:8.1f} {unit}  baseline {baseline:8.1f} {unit}  ratio {ratio:5.2f}  (target "
        f">= {target:.2f}: {verdict})"
    )


def bare_input(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """What a LiteRT user writes by hand: central 87.5 % crop, bilinear resize, BGR to RGB, batch of one."""
    h, w = image.shape[:2]
    ch, cw = round(h * 0.875), round(w * 0.875)
    crop = image[(h - ch) // 2 : (h - ch) // 2 + ch, (w - cw) // 2 : (w - cw) // 2 + cw]
    return cv2.cvtColor(cv2.resize(crop, (width, height), interpolation=cv2.INTER_LINEAR_EXACT), cv2.COLOR_BGR2RGB)[
        np.newaxis
    ]
