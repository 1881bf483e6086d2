"""Each region's verified state, kept in the state dir so that after a restart a region starts
from its last state (and says so) instead of guessing:

    <state dir>/regions/<camera>/<region>/state.json   {"state", "since", "score"}
    <state dir>/regions/<camera>/<region>/teach/       what was taught for the region (teach's layout)

Written atomically (whole or not at all). A damaged file is moved aside with one log line and the
region starts with no state: a bad file never stops the service or loops it.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from edge_app.atomic import atomic_write_text

log = logging.getLogger("edge_app.regions")
STATE_FILE = "state.json"
DAMAGED = ".damaged-"


@dataclass(frozen=True)
class SavedState:
    state: str
    since: float  # wall-clock time the state was verified
    score: float


def camera_dir(state_dir: Path, camera: str) -> Path:
    return Path(state_dir) / "regions" / _part(camera)


def region_dir(state_dir: Path, camera: str, region: str) -> Path:
    """Where one region keeps what it learns: its state, its taught model and examples."""
    return camera_dir(state_dir, camera) / _part(region)


def teach_root(state_dir: Path, camera: str, region: str) -> Path:
    """A region's teaching store (examples, embeddings, taught model), laid out as teach's own."""
    return region_dir(state_dir, camera, region) / "teach"


def _part(name: str) -> str:
    """A camera or region name used as one folder name, never a path out of the state dir."""
    if not name or name in (".", "..") or any(c in name for c in "/\\\0") or name.startswith("."):
        raise ValueError(f"{name!r} cannot name a folder")
    return name


def load(state_dir: Path, camera: str) -> dict[str, SavedState]:
    """Every saved region state of `camera`, by region name; damaged files are moved aside."""
    states: dict[str, SavedState] = {}
    root = camera_dir(state_dir, camera)
    try:
        folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError:
        return states  # nothing saved yet (or unreadable: start empty, saving will say why)
    for folder in folders:
        path = folder / STATE_FILE
        if not path.exists():
            continue
        try:
            states[folder.name] = _parse(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError, TypeError, KeyError) as error:
            move_aside(path, error, "region state")
    return states


def _parse(text: str) -> SavedState:
    data = json.loads(text)
    state, since, score = data["state"], data["since"], data["score"]
    if not isinstance(state, str) or not state:
        raise ValueError("no state")
    numbers = (since, score)
    if any(isinstance(n, bool) or not isinstance(n, (int, float)) or not math.isfinite(n) for n in numbers):
        raise ValueError("since and score must be numbers")
    return SavedState(state, float(since), float(score))


def move_aside(path: Path, error: Exception, what: str) -> None:
    """One log line, and the file renamed out of the way beside itself (kept to look at)."""
    aside = path.with_name(f"{DAMAGED}{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{path.name}")
    try:
        path.replace(aside)
        log.warning("%s %s is damaged (%s); moved to %s, starting without it", what, path, error, aside.name)
    except OSError as move_error:
        log.warning("%s %s is damaged (%s) and could not be moved aside: %s", what, path, error, move_error)


def save(state_dir: Path, camera: str, region: str, saved: SavedState) -> bool:
    """Keep `saved` for `region`; False (with a log line) when the state dir cannot be written, so a
    full disk never ends the run."""
    folder = region_dir(state_dir, camera, region)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_text(folder / STATE_FILE, json.dumps(asdict(saved)) + "\n")
    except OSError as error:
        log.warning("could not keep region %s state in %s: %s", region, folder, error)
        return False
    return True
