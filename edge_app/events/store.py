"""The events database: `events.db` in the state dir (SQLite, WAL), and the folder of the files
its rows name (snapshots, crops, clips, review frames).

One writer thread owns every change, fed by a bounded queue: the bus subscriber hands it rows
without waiting (a full queue drops the row, counted, with one line per burst), HTTP requests wait
for their answer. Reads open their own connection (WAL lets them run beside the writer). Each
change is one transaction, so SIGKILL at any moment leaves the last committed state; at start a
damaged database is moved aside with one line and a fresh one made, and rows naming files that are
gone lose those names (one line), so no row ever points at a missing file.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

log = logging.getLogger("edge_app.events")
DB_NAME = "events.db"
MEDIA = "events"  # the files' folder, beside the database
QUEUE_SIZE = 256
WAIT_S = 5.0  # how long a request waits for the writer
PAGE_MAX = 500
FILE_COLUMNS = ("snapshot", "crop", "clip")
T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts REAL NOT NULL,
    camera TEXT NOT NULL,
    region TEXT NOT NULL,
    label TEXT NOT NULL,
    previous TEXT,
    score REAL NOT NULL,
    kind TEXT NOT NULL DEFAULT 'state',
    reviewed INTEGER NOT NULL DEFAULT 0,
    snapshot TEXT,
    crop TEXT,
    clip TEXT,
    bytes INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS events_ts ON events (ts);
CREATE INDEX IF NOT EXISTS events_where ON events (camera, region, id);
"""
COLUMNS = ("id", "ts", "camera", "region", "label", "previous", "score", "kind", "reviewed", *FILE_COLUMNS, "bytes")


class StoreBusy(Exception):
    """The writer's queue is full (the disk is too slow for the events coming in)."""


@dataclass(frozen=True)
class NewEvent:
    ts: float
    camera: str
    region: str
    label: str
    previous: str | None
    score: float
    kind: str = "state"  # state: a verified change; start / end: a watched whole-frame label
    snapshot: str | None = None  # file names inside the media folder
    crop: str | None = None
    clip: str | None = None
    bytes: int = 0


@dataclass(frozen=True)
class EventRow(NewEvent):
    id: int = 0
    reviewed: bool = False

    def as_dict(self) -> dict[str, Any]:
        row = asdict(self)
        row["score"] = round(self.score, 6)
        row["snapshot"] = self.snapshot is not None
        row["crop"] = self.crop is not None
        row["clip"] = self.clip is not None
        return row


@dataclass(frozen=True)
class Query:
    camera: str | None = None
    region: str | None = None
    label: str | None = None
    since: float | None = None
    until: float | None = None
    reviewed: bool | None = None
    before: int | None = None  # the cursor: ids below this one (newest first)
    limit: int = 50


@dataclass(frozen=True)
class Page:
    events: list[EventRow]
    next: int | None  # the cursor of the following page, None on the last

    def as_dict(self) -> dict[str, Any]:
        return {"events": [row.as_dict() for row in self.events], "next": self.next}


def _row(values: sqlite3.Row) -> EventRow:
    data = dict(values)
    data["reviewed"] = bool(data["reviewed"])
    return EventRow(**data)


def move_aside(path: Path, why: str) -> Path:
    """A damaged database (and its WAL) renamed out of the way, kept for a post-mortem."""
    aside = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
    for suffix in ("", "-wal", "-shm"):
        part = Path(f"{path}{suffix}")
        if part.exists():
            part.replace(Path(f"{aside}{suffix}"))
    log.error("%s is damaged (%s): moved aside to %s, starting a fresh events database", path, why, aside.name)
    return aside


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, timeout=WAIT_S, check_same_thread=False)
    connection.row_factory = sqlite3.Row
    return connection


def open_database(path: Path) -> sqlite3.Connection:
    """The database, checked; a damaged one is moved aside and a fresh one made (never a crash loop)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for attempt in range(2):
        connection = _connect(path)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a killed process loses nothing committed
            verdict = connection.execute("PRAGMA quick_check").fetchone()[0]
            if verdict != "ok":
                raise sqlite3.DatabaseError(str(verdict))
            connection.executescript(SCHEMA)
            names = {row[1] for row in connection.execute("PRAGMA table_info(events)")}
            if not set(COLUMNS) <= names:
                raise sqlite3.DatabaseError("its events table lacks columns " + ", ".join(sorted(set(COLUMNS) - names)))
            return connection
        except sqlite3.DatabaseError as exc:
            connection.close()
            if attempt:
                raise
            move_aside(path, str(exc).splitlines()[0])
    raise AssertionError("unreachable")


class EventStore:
    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / DB_NAME
        self.media = state_dir / MEDIA
        self.media.mkdir(parents=True, exist_ok=True)
        self.dropped = 0
        self._connection = open_database(self.path)
        self._repair()
        self._jobs: queue.Queue[tuple[Callable[[sqlite3.Connection], Any], Future[Any]] | None] = queue.Queue(
            QUEUE_SIZE
        )
        self._dropping = False
        self._thread = threading.Thread(target=self._write_all, name="edge-app-events-db", daemon=True)
        self._thread.start()

    # -- start: rows that name missing files ---------------------------------------------------

    def _repair(self) -> None:
        """A row keeps only file names whose file is there (a crash or a hand cleared the rest)."""
        cleared = 0
        with self._connection:
            for values in self._connection.execute("SELECT id, snapshot, crop, clip FROM events").fetchall():
                gone = [c for c in FILE_COLUMNS if values[c] and not self._present(values[c])]
                if gone:
                    cleared += 1
                    assignments = ", ".join(f"{column} = NULL" for column in gone)
                    self._connection.execute(f"UPDATE events SET {assignments} WHERE id = ?", (values["id"],))
        if cleared:
            log.warning("%d events named snapshots or clips that are gone; their rows no longer point at them", cleared)

    def _present(self, name: str) -> bool:
        try:
            return (self.media / name).stat().st_size > 0
        except OSError:
            return False

    def file(self, name: str) -> Path:
        return self.media / name

    # -- the writer ---------------------------------------------------------------------------

    def _write_all(self) -> None:
        while (job := self._jobs.get()) is not None:
            work, future = job
            if not future.set_running_or_notify_cancel():
                continue
            try:
                with self._connection:  # one transaction: all of it or none of it
                    result = work(self._connection)
            except Exception as exc:  # noqa: BLE001 - handed to whoever asked; the writer goes on
                future.set_exception(exc)
            else:
                future.set_result(result)  # only once committed
        self._connection.close()

    def submit(self, work: Callable[[sqlite3.Connection], T], wait: bool = False) -> Future[T]:
        """Queue a change for the writer. Without `wait` it never blocks: a full queue drops the change."""
        future: Future[T] = Future()
        try:
            if wait:
                self._jobs.put((work, future), timeout=WAIT_S)
            else:
                self._jobs.put_nowait((work, future))
            self._dropping = False
        except queue.Full:
            self.dropped += 1
            if not self._dropping:
                log.warning("the events database cannot keep up; events are being dropped")
            self._dropping = True
            future.set_exception(StoreBusy("the events database is busy"))
        return future

    def add(self, event: NewEvent) -> Future[int]:
        values = asdict(event)

        def insert(connection: sqlite3.Connection) -> int:
            names = ", ".join(values)
            marks = ", ".join("?" for _ in values)
            cursor = connection.execute(f"INSERT INTO events ({names}) VALUES ({marks})", tuple(values.values()))
            assert cursor.lastrowid is not None
            return cursor.lastrowid

        return self.submit(insert)

    def update_files(self, event_id: int, **names: str | None) -> Future[None]:
        """Set or clear file names (a clip that finished, or failed), and recount the row's bytes."""
        for column in names:
            if column not in FILE_COLUMNS:
                raise ValueError(column)

        def update(connection: sqlite3.Connection) -> None:
            row = connection.execute("SELECT * FROM events WHERE id = ?", (event_id,)).fetchone()
            if row is None:
                return
            files = {column: row[column] for column in FILE_COLUMNS} | names
            size = sum(self._size(name) for name in files.values() if name)
            assignments = ", ".join(f"{column} = ?" for column in names)
            connection.execute(
                f"UPDATE events SET {assignments}, bytes = ? WHERE id = ?", (*names.values(), size, event_id)
            )

        return self.submit(update)

    def _size(self, name: str) -> int:
        try:
            return (self.media / name).stat().st_size
        except OSError:
            return 0

    def mark_reviewed(self, event_id: int, reviewed: bool = True) -> bool:
        def mark(connection: sqlite3.Connection) -> bool:
            cursor = connection.execute("UPDATE events SET reviewed = ? WHERE id = ?", (int(reviewed), event_id))
            return cursor.rowcount > 0

        return self.submit(mark, wait=True).result(WAIT_S)

    def delete(self, ids: Iterable[int], wait: bool = True) -> Future[int]:
        """Rows first, then their files: a crash in between leaves a file without a row, never the reverse."""
        wanted = list(ids)

        def remove(connection: sqlite3.Connection) -> int:
            files: list[str] = []
            for event_id in wanted:
                row = connection.execute("SELECT snapshot, crop, clip FROM events WHERE id = ?", (event_id,)).fetchone()
                if row is None:
                    continue
                files += [row[c] for c in FILE_COLUMNS if row[c]]
                connection.execute("DELETE FROM events WHERE id = ?", (event_id,))
            connection.commit()
            for name in files:
                (self.media / name).unlink(missing_ok=True)
            return len(files)

        return self.submit(remove, wait=wait)

    def flush(self) -> None:
        """Wait until every change queued so far is written."""
        self.submit(lambda connection: None, wait=True).result(WAIT_S)

    def close(self, timeout: float = 2.0) -> None:
        try:
            self._jobs.put(None, timeout=timeout)
        except queue.Full:
            log.warning("the events database writer is still busy; its last changes may be lost")
        self._thread.join(timeout)

    # -- reads -------------------------------------------------------------------------------

    def read(self, sql: str, parameters: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        connection = _connect(self.path)
        try:
            return connection.execute(sql, parameters).fetchall()
        finally:
            connection.close()

    def get(self, event_id: int) -> EventRow | None:
        rows = self.read("SELECT * FROM events WHERE id = ?", (event_id,))
        return _row(rows[0]) if rows else None

    def page(self, query: Query) -> Page:
        """Newest first, `limit` at a time; `next` is the cursor of the page after."""
        where, parameters = _where(query)
        limit = max(1, min(PAGE_MAX, query.limit))
        rows = self.read(f"SELECT * FROM events{where} ORDER BY id DESC LIMIT ?", (*parameters, limit + 1))
        events = [_row(row) for row in rows[:limit]]
        return Page(events, events[-1].id if len(rows) > limit else None)

    def count(self, query: Query) -> int:
        where, parameters = _where(query)
        return int(self.read(f"SELECT COUNT(*) FROM events{where}", parameters)[0][0])

    def usage(self) -> list[tuple[int, float, int]]:
        """(id, ts, bytes) of every event, oldest first: what retention decides on."""
        return [(r["id"], r["ts"], r["bytes"]) for r in self.read("SELECT id, ts, bytes FROM events ORDER BY id")]


def _where(query: Query) -> tuple[str, tuple[Any, ...]]:
    clauses: list[str] = []
    parameters: list[Any] = []
    for column in ("camera", "region", "label"):
        value = getattr(query, column)
        if value is not None:
            clauses.append(f"{column} = ?")
            parameters.append(value)
    for clause, value in (("ts >= ?", query.since), ("ts <= ?", query.until), ("id < ?", query.before)):
        if value is not None:
            clauses.append(clause)
            parameters.append(value)
    if query.reviewed is not None:
        clauses.append("reviewed = ?")
        parameters.append(int(query.reviewed))
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), tuple(parameters)
