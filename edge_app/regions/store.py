"""Regions made in the page, kept in the state dir so they survive restarts:

    <state dir>/regions/<camera>/regions.json   {"regions": [{"name", "box", "on_motion", ...}]}

Each entry is checked with the same rules as the config file (spec.parse_table). The file is
written atomically; a damaged one is moved aside with one log line and the page starts without
its regions (config-file regions are unaffected), never a crash or a crash loop.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

from edge_app.atomic import atomic_write_text
from edge_app.errors import EdgeAppError
from edge_app.regions.spec import RegionSpec, check_unique, parse_table
from edge_app.regions.states import camera_dir, move_aside

log = logging.getLogger("edge_app.regions")
REGIONS_FILE = "regions.json"


class PageRegions:
    def __init__(self, state_dir: Path, camera: str) -> None:
        self.path = camera_dir(state_dir, camera) / REGIONS_FILE

    def load(self) -> tuple[RegionSpec, ...]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return ()
        except (OSError, UnicodeDecodeError) as error:
            move_aside(self.path, error, "page regions")
            return ()
        try:
            entries = json.loads(text)["regions"]
            if not isinstance(entries, list):
                raise ValueError("regions is not a list")
            specs = []
            for entry in entries:
                body = {key: value for key, value in entry.items() if key not in ("name", "origin")}
                specs.append(parse_table(entry["name"], body, "page regions", origin="page"))
            return check_unique(specs)
        except (ValueError, TypeError, KeyError, AttributeError, EdgeAppError) as error:
            move_aside(self.path, error, "page regions")
            return ()

    def save(self, specs: Sequence[RegionSpec]) -> None:
        """Raises OSError when the state dir cannot be written (the API answers 507)."""
        entries = [{key: value for key, value in spec.as_dict().items() if key != "origin"} for spec in specs]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.path, json.dumps({"regions": entries}, indent=1) + "\n")
