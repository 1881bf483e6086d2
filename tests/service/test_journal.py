"""Log lines get journald priority prefixes only when stderr really is the journal stream."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import pytest

from edge_app.errors import EdgeAppError
from edge_app.service.journal import is_journal, setup_logging, syslog_priority


@pytest.fixture(autouse=True)
def _restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[TextIO]:
    with open(tmp_path / "stderr.log", "w+", encoding="utf-8") as stream:
        yield stream


def stream_id(stream: TextIO) -> str:
    st = os.fstat(stream.fileno())
    return f"{st.st_dev}:{st.st_ino}"


def emit_all(stream: TextIO) -> list[str]:
    log = logging.getLogger("edge_app.test")
    log.debug("d")
    log.info("i")
    log.warning("w")
    log.error("e")
    log.critical("c")
    stream.flush()
    stream.seek(0)
    return stream.read().splitlines()


def test_priorities() -> None:
    levels = [logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR, logging.CRITICAL, 5, 25]
    assert [syslog_priority(level) for level in levels] == [7, 6, 4, 3, 2, 7, 6]


def test_journal_stream_lines_carry_priorities_and_no_timestamp(log_file: TextIO) -> None:
    setup_logging("debug", stream=log_file, environ={"JOURNAL_STREAM": stream_id(log_file)})
    assert emit_all(log_file) == [
        "<7>edge_app.test: d",
        "<6>edge_app.test: i",
        "<4>edge_app.test: w",
        "<3>edge_app.test: e",
        "<2>edge_app.test: c",
    ]


def test_every_line_of_a_traceback_keeps_the_priority(log_file: TextIO) -> None:
    setup_logging("info", stream=log_file, environ={"JOURNAL_STREAM": stream_id(log_file)})
    try:
        raise ValueError("bad frame")
    except ValueError:
        logging.getLogger("edge_app.test").exception("inference failed")
    log_file.seek(0)
    lines = log_file.read().splitlines()
    assert len(lines) > 3
    assert all(line.startswith("<3>") for line in lines)
    assert lines[-1] == "<3>ValueError: bad frame"


def test_elsewhere_lines_are_readable_with_a_time(log_file: TextIO) -> None:
    setup_logging("warning", stream=log_file, environ={})
    lines = emit_all(log_file)
    assert len(lines) == 3  # warning and up
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d WARNING edge_app.test: w", lines[0])
    assert not any(line.startswith("<") for line in lines)


def test_a_stale_journal_stream_is_not_trusted(log_file: TextIO, tmp_path: Path) -> None:
    """A child with stderr redirected to a file inherits JOURNAL_STREAM; it names another file."""
    with open(tmp_path / "other", "w") as other:
        assert not is_journal(log_file, {"JOURNAL_STREAM": stream_id(other)})
    assert is_journal(log_file, {"JOURNAL_STREAM": stream_id(log_file)})
    assert not is_journal(log_file, {"JOURNAL_STREAM": "garbage"})
    assert not is_journal(log_file, {})


def test_setting_up_twice_keeps_one_handler(log_file: TextIO) -> None:
    setup_logging("info", stream=log_file, environ={})
    setup_logging("debug", stream=log_file, environ={})
    ours = [h for h in logging.getLogger().handlers if h.get_name() == "edge-app"]
    assert len(ours) == 1
    assert logging.getLogger().level == logging.DEBUG


def test_unknown_level_is_a_user_error() -> None:
    with pytest.raises(EdgeAppError, match="unknown log level 'loud'; use one of debug, info, warning, error"):
        setup_logging("loud")
