"""The review queue on disk: a `review` table in events.db (through the events writer) and, per
frame, the crop and the whole frame as JPEG files. Bounded per region, the oldest going first with
their files; a row whose crop is gone is dropped at start."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import numpy as np

from edge_app.events.store import WAIT_S, EventStore

log = logging.getLogger("edge_app.events")
FOLDER = "review"
SCHEMA = """
CREATE TABLE IF NOT EXISTS review (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts REAL NOT NULL,
    camera TEXT NOT NULL,
    region TEXT NOT NULL,
    label TEXT NOT NULL,
    score REAL NOT NULL,
    state TEXT,
    reason TEXT NOT NULL,
    crop TEXT NOT NULL,
    frame TEXT,
    embedding BLOB
);
CREATE INDEX IF NOT EXISTS review_where ON review (camera, region, id);
"""


@dataclass(frozen=True)
class NewReview:
    ts: float
    camera: str
    region: str
    label: str
    score: float
    state: str | None
    reason: str
    crop: str  # file names inside the media folder
    frame: str | None = None
    embedding: bytes | None = None  # float32, the model's pooled embedding of the crop (teaching reuses it)


@dataclass(frozen=True)
class ReviewRow(NewReview):
    id: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "ts": self.ts,
            "camera": self.camera,
            "region": self.region,
            "label": self.label,
            "score": round(self.score, 6),
            "state": self.state,
            "reason": self.reason,
            "frame": self.frame is not None,
        }

    def vector(self) -> np.ndarray | None:
        return None if self.embedding is None else np.frombuffer(self.embedding, np.float32)


class ReviewQueue:
    def __init__(self, store: EventStore, keep: int = 100) -> None:
        self.store = store
        self.keep = keep
        (store.media / FOLDER).mkdir(parents=True, exist_ok=True)
        store.submit(lambda connection: connection.executescript(SCHEMA), wait=True).result(WAIT_S)
        self._drop_missing()

    def _drop_missing(self) -> None:
        gone = [row["id"] for row in self.store.read("SELECT id, crop FROM review") if not self._present(row["crop"])]
        if gone:
            self.discard(gone)
            log.warning("%d review frames had lost their pictures and were dropped", len(gone))

    def _present(self, name: str) -> bool:
        return self.store.file(name).is_file()

    def add(self, item: NewReview) -> Future[int]:
        """Never blocks (the events writer's rule); the region's oldest beyond `keep` go."""
        values = item.__dict__

        def insert(connection: sqlite3.Connection) -> int:
            names = ", ".join(values)
            marks = ", ".join("?" for _ in values)
            cursor = connection.execute(f"INSERT INTO review ({names}) VALUES ({marks})", tuple(values.values()))
            old = connection.execute(
                "SELECT id, crop, frame FROM review WHERE camera = ? AND region = ? ORDER BY id DESC LIMIT -1 OFFSET ?",
                (item.camera, item.region, self.keep),
            ).fetchall()
            self._remove(connection, old)
            assert cursor.lastrowid is not None
            return cursor.lastrowid

        return self.store.submit(insert)

    def _remove(self, connection: sqlite3.Connection, rows: list[sqlite3.Row]) -> None:
        for row in rows:
            connection.execute("DELETE FROM review WHERE id = ?", (row["id"],))
        connection.commit()  # the rows go before their files: never a row without its picture
        for row in rows:
            for name in (row["crop"], row["frame"]):
                if name:
                    self.store.file(name).unlink(missing_ok=True)

    def discard(self, ids: Iterable[int]) -> int:
        wanted = [int(i) for i in ids]

        def remove(connection: sqlite3.Connection) -> int:
            marks = ", ".join("?" for _ in wanted)
            rows = connection.execute(f"SELECT id, crop, frame FROM review WHERE id IN ({marks})", wanted).fetchall()
            self._remove(connection, rows)
            return len(rows)

        return self.store.submit(remove, wait=True).result(WAIT_S) if wanted else 0

    def recent(self, camera: str | None, region: str | None, limit: int = 100) -> list[ReviewRow]:
        """Newest first."""
        clauses, parameters = [], []
        for column, value in (("camera", camera), ("region", region)):
            if value is not None:
                clauses.append(f"{column} = ?")
                parameters.append(value)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self.store.read(f"SELECT * FROM review{where} ORDER BY id DESC LIMIT ?", (*parameters, limit))
        return [ReviewRow(**dict(row)) for row in rows]

    def take(self, ids: Iterable[int]) -> list[ReviewRow]:
        wanted = [int(i) for i in ids]
        if not wanted:
            return []
        marks = ", ".join("?" for _ in wanted)
        rows = self.store.read(f"SELECT * FROM review WHERE id IN ({marks}) ORDER BY id", tuple(wanted))
        return [ReviewRow(**dict(row)) for row in rows]

    def counts(self) -> dict[str, int]:
        rows = self.store.read("SELECT camera, region, COUNT(*) AS n FROM review GROUP BY camera, region")
        return {f"{row['camera']}/{row['region']}": row["n"] for row in rows}
