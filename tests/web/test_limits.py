"""The live view's limits as plain logic: sized below the descriptor limit, the end of a header
block, and one warning per burst of shed connections."""

from __future__ import annotations

import resource

import pytest

from edge_app.web.limits import RESERVED_FDS, ShedLog, header_end, limits_for, open_file_limit


@pytest.mark.parametrize("open_files", [256, 1024, 4096, 1_000_000])
def test_what_is_held_stays_below_the_descriptor_limit(open_files: int) -> None:
    limits = limits_for(open_files)
    assert limits.held + limits.workers + RESERVED_FDS <= max(open_files, 256)
    assert limits.backlog >= 128 and limits.header_s > 0 and limits.header_bytes >= 8192


def test_a_1024_limit_still_holds_most_of_a_thousand_clients() -> None:
    assert limits_for(1024).held >= 850


def test_the_open_file_limit_is_the_soft_one() -> None:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert open_file_limit() == (soft if soft != resource.RLIM_INFINITY else open_file_limit())


@pytest.mark.parametrize(
    ("data", "end"),
    [
        (b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", 27),
        (b"GET / HTTP/1.1\nHost: a\n\n", 24),
        (b"GET / HTTP/1.1\r\nHost: a\r\n\r\nbody", 27),
        (b"GET / HTTP/1.1\r\nHost: a\r\n", -1),
        (b"GET / HTTP/1.1\r\nHost: a\r\n\r", -1),
        (b"", -1),
    ],
)
def test_header_end(data: bytes, end: int) -> None:
    assert header_end(data) == end


def test_header_end_can_resume_where_it_stopped() -> None:
    data = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"
    assert header_end(data, len(data) - 2 - 2) == len(data)


def test_shedding_is_one_warning_per_burst_then_a_summary_a_minute() -> None:
    warnings: list[str] = []
    shed = ShedLog(warnings.append, every_s=60)
    for i in range(500):
        shed.note("slow or idle connections dropped to make room", now=i / 100)
    shed.note("refused: too many connections", now=6)
    assert len(warnings) == 1 and "1 slow or idle" in warnings[0]
    assert shed.due(30) == 30
    shed.flush(30)
    assert len(warnings) == 1
    shed.flush(60)
    assert (
        warnings[1]
        == "live view: still shedding connections in the last 60 s: 499 slow or idle connections dropped to "
        "make room, 1 refused: too many connections"
    )
    shed.flush(200)
    assert len(warnings) == 2 and shed.due(200) is None  # the burst is over: quiet
    shed.note("too slow to send a request", now=300)
    assert len(warnings) == 3  # a new burst is told at once
