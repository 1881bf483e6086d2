"""Helpers shared by the benchmark scripts: shared data paths and test videos."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # tests/videos.py makes videos from the shared photos

from shared_data import IMAGES, MODELS, SHARED  # noqa: E402,F401  (../shared, or $EDGE_APP_SHARED)
from videos import make_video  # noqa: E402

os.environ.setdefault("EDGE_APP_MODELS", str(MODELS))  # catalog names resolve to ../shared/models, offline


def video(path: Path, frames: int, fps: float = 30.0) -> Path:
    if not path.exists():
        print(f"making {frames}-frame 640x480 video {path} ...", file=sys.stderr)
        make_video(path, frames, fps=fps)
    return path


def ratio_line(name: str, ours: float, baseline: float, target: float, unit: str = "fps") -> str:
    ratio = ours / baseline if baseline else float("nan")
    verdict = "ok" if ratio >= target else "BELOW TARGET"
    return f"{name:<42} ours {ours:8.1f} {unit}  baseline {baseline:8.1f} {unit}  ratio {ratio:5.2f}  (target >= {target:.2f}: {verdict})"
