"""A real live pipeline for teaching tests, assembled in-process as `edge-app run` assembles it,
and a small client for its /api/teach endpoints."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from edge_app.model.classifier import Classifier
from edge_app.model.options import ModelOptions
from edge_app.pipeline.model_slot import ModelSlot
from edge_app.regions.spec import Box, RegionSpec
from edge_app.teach.teacher import Teacher
from edge_app.web.sink import HttpSink
from tests.helpers.shared_data import SHARED

FLOWERS = SHARED / "flowers-4"


def species() -> list[str]:
    return sorted(p.name for p in (FLOWERS / "train").iterdir() if p.is_dir())


def photos(split: str, name: str, count: int | None = None) -> list[Path]:
    return sorted((FLOWERS / split / name).iterdir())[:count]


def slideshow(folder: Path, split: str = "test") -> Path:
    """A flat folder of links to the flower photos of `split`, named `<species>_<file>`, for --source."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in species():
        for photo in photos(split, name):
            (folder / f"{name}_{photo.name}").symlink_to(photo)
    return folder


class RegionRuntime:
    """The real RegionModels of a camera, whose slot holds what a live run's does when the whole frame
    can be taught: a model built in memory (its embedding as a second output), with no file behind it,
    so region teaching must read the camera's model from its file."""

    def __init__(self, state_dir: Path, options: ModelOptions, regions: Sequence[str]) -> None:
        from edge_app.model.classifier import Classifier
        from edge_app.runtime.models import RegionModels, Teachable
        from edge_app.teach.models import live_model

        base = Classifier.open(options)
        slot = ModelSlot(live_model(base.info.path.read_bytes(), base.info.name, options))
        self.models = RegionModels("cam", slot, options, Teachable(state_dir, live=True))
        self.specs = {name: RegionSpec(name, Box(0.0, 0.0, 1.0, 1.0)) for name in regions}
        self.models.on_swap(self._rerun)

    def _rerun(self, region: str) -> None:
        """What the runner does when a region's model is swapped: it runs at once and its result is out."""
        spec = self.specs[region]
        self.models.published(spec, self.models(spec))

    def factory(self, camera: str, region: str) -> Teacher | str:
        spec = self.specs.get(region)
        return "there is no such region" if spec is None or camera != "cam" else self.models.teacher(spec)

    def running(self, region: str) -> Classifier:
        """The model the runtime hands the region's crops to now."""
        return self.models(self.specs[region])


@dataclass
class Client:
    base: str

    def call(
        self, method: str, path: str, body: bytes | None = None, content_type: str | None = None
    ) -> tuple[int, Any]:
        parts = urlsplit(self.base)
        assert parts.hostname is not None, self.base
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
        try:
            connection.request(method, path, body=body, headers={"Content-Type": content_type} if content_type else {})
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        kind = response.getheader("Content-Type", "")
        return response.status, json.loads(data) if kind.startswith("application/json") else data

    def add(self, label: str, photo: Path | None = None) -> tuple[int, Any]:
        body = photo.read_bytes() if photo else None
        kind = ("image/png" if photo.suffix == ".png" else "image/jpeg") if photo else None
        return self.call("POST", f"/api/teach/examples?label={quote(label)}", body, kind)

    def teach(self) -> dict[str, Any]:
        code, status = self.call("GET", "/api/teach")
        assert code == 200, status
        return status

    def counts(self) -> dict[str, int]:
        return {item["label"]: item["examples"] for item in self.teach()["classes"]}


def running(settings: Any) -> Iterator[tuple[Client, Any]]:
    """The run's live view client and its Running, for the length of a `with`-style generator."""
    from edge_app.app import build
    from edge_app.service.notify import Notifier

    stop = threading.Event()
    run = build(settings, stop, Notifier(None))
    thread = threading.Thread(target=run.pipeline.run, daemon=True)
    thread.start()
    view = run.pipeline.parts.sinks[0]
    assert isinstance(view, HttpSink), "the run's first output is its live view"
    try:
        yield Client(view.url), run
    finally:
        stop.set()
        thread.join(10)
