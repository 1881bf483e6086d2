"""The events database: pages and filters, a damaged file moved aside, lost files repaired, SIGKILL."""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from edge_app.events.store import DB_NAME, EventRow, EventStore, NewEvent, Query


def _event(
    i: int, region: str = "door", label: str = "open", snapshot: str | None = None, clip: str | None = None
) -> NewEvent:
    return NewEvent(1000.0 + i, "cam", region, label, None, 0.9, snapshot=snapshot, clip=clip)


def _row(store: EventStore, event_id: int) -> EventRow:
    """The stored row, which the test knows is there."""
    row = store.get(event_id)
    assert row is not None, event_id
    return row


@pytest.fixture
def store(tmp_path: Path):
    opened = EventStore(tmp_path)
    yield opened
    opened.close()


def test_rows_are_paged_newest_first_with_a_cursor_and_filtered(store: EventStore) -> None:
    for i in range(7):
        store.add(_event(i, region="door" if i % 2 else "bins", label="open" if i < 4 else "closed"))
    store.flush()
    first = store.page(Query(limit=3))
    assert [row.ts for row in first.events] == [1006.0, 1005.0, 1004.0]
    second = store.page(Query(limit=3, before=first.next))
    third = store.page(Query(limit=3, before=second.next))
    assert [row.ts for row in second.events + third.events] == [1003.0, 1002.0, 1001.0, 1000.0]
    assert third.next is None
    assert [row.ts for row in store.page(Query(region="door", label="open")).events] == [1003.0, 1001.0]
    assert [row.ts for row in store.page(Query(since=1002.0, until=1004.0)).events] == [1004.0, 1003.0, 1002.0]
    assert store.count(Query(reviewed=False)) == 7


def test_reviewed_and_delete_take_the_files_with_the_row(store: EventStore) -> None:
    (store.media / "a.jpg").write_bytes(b"jpeg")
    (store.media / "other.jpg").write_bytes(b"not ours to delete")
    event_id = store.add(_event(1, snapshot="a.jpg")).result(5)
    assert store.mark_reviewed(event_id)
    assert _row(store, event_id).reviewed
    assert not store.mark_reviewed(event_id + 100)
    assert store.delete([event_id]).result(5) == 1
    assert store.get(event_id) is None
    assert not (store.media / "a.jpg").exists()
    assert (store.media / "other.jpg").exists()


def test_a_damaged_database_is_moved_aside_and_a_fresh_one_made(tmp_path: Path, caplog) -> None:
    (tmp_path / DB_NAME).write_bytes(b"this is not a database" * 100)
    with caplog.at_level(logging.ERROR, "edge_app.events"):
        store = EventStore(tmp_path)
    try:
        assert store.add(_event(1)).result(5) == 1
        assert len([r for r in caplog.records if "damaged" in r.getMessage()]) == 1
        assert list(tmp_path.glob(f"{DB_NAME}.damaged-*"))
    finally:
        store.close()
    again = EventStore(tmp_path)  # and the next start is clean: no crash loop, nothing moved again
    assert again.count(Query()) == 1
    again.close()


def test_rows_naming_missing_files_are_repaired_at_start(tmp_path: Path, caplog) -> None:
    store = EventStore(tmp_path)
    (store.media / "kept.jpg").write_bytes(b"jpeg")
    (store.media / "lost.jpg").write_bytes(b"jpeg")
    kept = store.add(_event(1, snapshot="kept.jpg", clip="gone.mp4")).result(5)
    lost = store.add(_event(2, snapshot="lost.jpg")).result(5)
    store.close()
    (store.media / "lost.jpg").unlink()
    with caplog.at_level(logging.WARNING, "edge_app.events"):
        store = EventStore(tmp_path)
    try:
        assert _row(store, kept).snapshot == "kept.jpg" and _row(store, kept).clip is None
        assert _row(store, lost).snapshot is None
        assert sum("gone" in r.getMessage() for r in caplog.records) == 1
    finally:
        store.close()


WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from edge_app.events.store import EventStore, NewEvent
    store = EventStore(Path(sys.argv[1]))
    i = 0
    while True:
        store.add(NewEvent(float(i), "cam", "door", "open", "closed", 0.9)).result(5)
        print(i, flush=True)  # committed
        i += 1
    """
)


def test_sigkill_at_any_moment_leaves_the_database_consistent(tmp_path: Path) -> None:
    for round_ in range(3):
        child = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True, env=os.environ.copy()
        )
        assert child.stdout is not None
        committed = -1
        for line in child.stdout:
            committed = int(line)
            if committed >= 20 + 17 * round_:  # a different moment each round
                break
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        connection = sqlite3.connect(tmp_path / DB_NAME)
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        connection.close()
        store = EventStore(tmp_path)
        listed = {row.ts for row in store.page(Query(limit=500)).events}
        store.close()
        assert set(map(float, range(committed + 1))) <= listed
