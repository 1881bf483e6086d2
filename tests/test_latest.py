"""Latest: the one-value mailbox between pipeline stages. Versions, overwriting, waking waiters,
close, timeouts, and many writers at once. No sleeps: a waiter is known to be blocked when the
box counts it (`Latest.waiting`)."""

from __future__ import annotations

import threading
from typing import Any

from edge_app.latest import Latest
from tests.helpers.waiting import completes, wait_until


class Reader(threading.Thread):
    """get(after, timeout) on its own thread; `answer` holds what it returned."""

    def __init__(self, box: Latest[Any], after: int, timeout: float | None = None) -> None:
        super().__init__(daemon=True)
        self.box, self.after, self.timeout = box, after, timeout
        self.answer: object = "not yet"

    def run(self) -> None:
        self.answer = self.box.get(self.after, self.timeout)

    def finish(self) -> object:
        self.join(10)
        assert not self.is_alive(), "get() still blocked"
        return self.answer


def start_blocked(box: Latest[Any], *readers: Reader) -> None:
    """Start the readers and return once every one of them is blocked inside get()."""
    for reader in readers:
        reader.start()
    wait_until(
        lambda: box.waiting == len(readers),
        message=lambda: f"{box.waiting} of {len(readers)} readers blocked",
    )


def test_nothing_put_means_none_after_the_timeout() -> None:
    box: Latest[str] = Latest()
    assert box.get(0, timeout=0.01) is None
    assert box.get(0, timeout=0) is None


def test_each_put_is_a_new_version_and_a_reader_gets_the_newest_only() -> None:
    box: Latest[str] = Latest()
    box.put("a")
    assert box.get(0, timeout=0) == (1, "a")
    box.put("b")
    box.put("c")
    assert box.get(1, timeout=0) == (3, "c")  # "b" was overwritten: a slow reader skips it
    assert box.get(3, timeout=0) is None  # nothing newer than what it took
    assert box.get(0, timeout=0) == (3, "c")  # a new reader starts from the newest too


def test_readers_keep_their_own_place() -> None:
    box: Latest[int] = Latest()
    box.put(10)
    got = box.get(0, timeout=0)
    assert got is not None
    fast_version, _ = got
    box.put(20)
    assert box.get(fast_version, timeout=0) == (2, 20)
    assert box.get(0, timeout=0) == (2, 20)  # a reader that took nothing yet gets the same newest value


def test_a_blocked_reader_wakes_on_put() -> None:
    box: Latest[str] = Latest()
    reader = Reader(box, after=0)
    start_blocked(box, reader)
    box.put("frame")
    assert reader.finish() == (1, "frame")


def test_a_put_wakes_every_blocked_reader() -> None:
    box: Latest[str] = Latest()
    readers = [Reader(box, after=0) for _ in range(4)]
    start_blocked(box, *readers)
    box.put("frame")
    assert [reader.finish() for reader in readers] == [(1, "frame")] * 4


def test_a_reader_waiting_for_a_newer_version_ignores_the_one_it_has() -> None:
    box: Latest[str] = Latest()
    box.put("old")
    reader = Reader(box, after=1)
    start_blocked(box, reader)  # it did not return the value it already had
    box.put("new")
    assert reader.finish() == (2, "new")


def test_close_wakes_blocked_readers_with_none() -> None:
    box: Latest[str] = Latest()
    readers = [Reader(box, after=0), Reader(box, after=0, timeout=60)]
    start_blocked(box, *readers)
    assert not box.closed
    box.close()
    assert box.closed
    assert [reader.finish() for reader in readers] == [None, None]


def test_after_close_the_last_value_is_still_delivered_once_and_nothing_blocks() -> None:
    box: Latest[str] = Latest()
    box.put("last")
    box.close()
    assert completes(lambda: box.get(0)) == (1, "last")  # not taken yet: delivered
    assert completes(lambda: box.get(1)) is None  # taken: no wait, even without a timeout
    assert completes(lambda: box.get(0, timeout=None)) == (1, "last")


def test_close_without_any_value_returns_none_at_once() -> None:
    box: Latest[str] = Latest()
    box.close()
    assert completes(lambda: box.get(0)) is None


def test_a_timed_out_reader_gets_none_and_stops_waiting() -> None:
    box: Latest[str] = Latest()
    box.put("seen")
    assert box.get(1, timeout=0.05) is None
    assert box.waiting == 0


def test_many_writers_lose_no_version() -> None:
    box: Latest[tuple[int, int]] = Latest()
    start = threading.Barrier(4)

    def write(writer: int) -> None:
        start.wait()
        for i in range(500):
            box.put((writer, i))

    writers = [threading.Thread(target=write, args=(w,), daemon=True) for w in range(4)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(30)
    got = box.get(0, timeout=0)
    assert got is not None
    version, (_, last) = got
    assert version == 4 * 500
    assert last == 499  # the newest value is some writer's final one


def test_a_reader_following_a_writer_sees_versions_only_grow() -> None:
    box: Latest[int] = Latest()
    seen: list[int] = []

    def follow() -> None:
        after = 0
        while (got := box.get(after, timeout=10)) is not None:
            after, value = got
            assert value == after  # the value put as version N is N: never a stale pairing
            seen.append(after)

    reader = threading.Thread(target=follow, daemon=True)
    reader.start()
    for version in range(1, 2001):
        box.put(version)
    box.close()
    reader.join(10)
    assert not reader.is_alive()
    assert seen == sorted(set(seen)) and seen[-1] == 2000  # forward only, and it got the last one
