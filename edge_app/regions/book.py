"""The regions of one camera, as the page edits them: those from the config file (shown, never
changed here) and those made in the page (kept by store.PageRegions). Whoever runs the regions
listens for changes and applies them from the next frame on."""

from __future__ import annotations

import logging
import shutil
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from http import HTTPStatus
from pathlib import Path
from typing import Any

from edge_app.errors import EdgeAppError
from edge_app.regions.spec import WHOLE_FRAME, RegionSpec, check_name, parse_table
from edge_app.regions.states import STATE_FILE, region_dir, teach_root
from edge_app.regions.store import PageRegions

log = logging.getLogger("edge_app.regions")
Listener = Callable[[tuple[RegionSpec, ...]], None]


class RegionError(EdgeAppError):
    """A request about regions that cannot be honoured; `status` is the HTTP answer."""

    def __init__(self, message: str, hint: str = "", status: int = HTTPStatus.BAD_REQUEST) -> None:
        super().__init__(message, hint)
        self.status = status


class RegionBook:
    def __init__(
        self, camera: str, configured: Sequence[RegionSpec], state_dir: Path | None, store: PageRegions | None = None
    ) -> None:
        self.camera = camera
        self.state_dir = state_dir
        self._configured = {spec.name: replace(spec, origin="config") for spec in configured}
        self._store = store if store is not None else (PageRegions(state_dir, camera) if state_dir else None)
        self._page: dict[str, RegionSpec] = {}
        for spec in self._store.load() if self._store else ():
            if spec.name in self._configured:
                log.warning(
                    "region %r is in the config file and was also made in the page: the file's is used", spec.name
                )
                continue
            self._page[spec.name] = spec
        self._lock = threading.Lock()
        self._listeners: list[Listener] = []

    @property
    def specs(self) -> tuple[RegionSpec, ...]:
        with self._lock:
            return (*self._configured.values(), *self._page.values())

    def get(self, name: str) -> RegionSpec | None:
        with self._lock:
            return self._configured.get(name) or self._page.get(name)

    def on_change(self, listener: Listener) -> None:
        """`listener` gets every region (config and page) after each change."""
        self._listeners.append(listener)

    def put(self, name: str, body: Mapping[str, Any]) -> tuple[RegionSpec, bool]:
        """Make or change a page region; keys left out keep their current value. (spec, created)."""
        self._editable(name)
        if not isinstance(body, Mapping):
            raise RegionError("the body must be a JSON object", 'e.g. {"box": [0.1, 0.1, 0.5, 0.5]}')
        with self._lock:
            current = self._page.get(name)
            table = {**(_table(current) if current else {}), **body}
            spec = parse_table(name, table, "regions", origin="page")
            page = {**self._page, name: spec}
            self._save(page)
        self._changed()
        return spec, current is None

    def delete(self, name: str, examples: bool = False) -> dict[str, Any]:
        """Remove a page region, its state and taught model; its examples too only if asked."""
        self._editable(name)
        with self._lock:
            if name not in self._page:
                raise RegionError(f"there is no region {name!r}", "GET /api/regions lists them", HTTPStatus.NOT_FOUND)
            page = {key: spec for key, spec in self._page.items() if key != name}
            self._save(page)
        self._forget(name, examples)
        self._changed()
        return {"deleted": name, "examples_kept": not examples}

    def _editable(self, name: str) -> None:
        check_name(name)
        if name == WHOLE_FRAME:
            raise RegionError(f"{WHOLE_FRAME!r} is the whole view", "give the region another name", HTTPStatus.CONFLICT)
        if name in self._configured:
            raise RegionError(
                f"region {name!r} is set in the config file",
                "change or remove it there (and reload); the page changes only regions made in the page",
                HTTPStatus.CONFLICT,
            )

    def _save(self, page: dict[str, RegionSpec]) -> None:
        """Under the lock: keep `page` on disk, then in memory (a failed save changes nothing)."""
        if self._store is not None:
            try:
                self._store.save(list(page.values()))
            except OSError as error:
                raise RegionError(
                    f"cannot keep the regions in {self._store.path.parent} ({error.strerror or error})",
                    "check the state dir's space and permissions",
                    HTTPStatus.INSUFFICIENT_STORAGE,
                ) from None
        self._page = page

    def _forget(self, name: str, examples: bool) -> None:
        if self.state_dir is None:
            return
        folder = region_dir(self.state_dir, self.camera, name)
        try:
            if examples:
                shutil.rmtree(folder, ignore_errors=True)
                return
            (folder / STATE_FILE).unlink(missing_ok=True)
            (teach_root(self.state_dir, self.camera, name) / "model.tflite").unlink(missing_ok=True)
        except OSError as error:
            log.warning("region %s was deleted, but its files in %s stay: %s", name, folder, error)

    def _changed(self) -> None:
        specs = self.specs
        for listener in self._listeners:
            listener(specs)


def _table(spec: RegionSpec) -> dict[str, Any]:
    return {key: value for key, value in spec.as_dict().items() if key not in ("name", "origin")}
