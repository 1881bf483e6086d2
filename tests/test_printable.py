"""User text in logs, the journal and on stderr stays one line and cannot drive the terminal."""

from __future__ import annotations

import io
import logging

import pytest

from edge_app.printable import printable
from edge_app.service.journal import JournalFormatter, setup_logging
from tests.fakes.cli_run import assert_one_line_error, run_cli


def test_controls_line_breaks_and_bidi_are_escaped_and_the_rest_kept() -> None:
    assert printable("a\nb\rc\td\x1b[31me\x00\x7f\x85") == "a\\nb\\rc\\td\\x1b[31me\\x00\\x7f\\x85"
    assert printable("x\u2028y\u2029z\u202e") == "x\\u2028y\\u2029z\\u202e"
    assert printable("caméra 猫 🐦 bird at the feeder") == "caméra 猫 🐦 bird at the feeder"


def test_a_log_record_with_a_newline_in_its_arguments_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    handler = setup_logging("info", stream, environ={})
    try:
        logging.getLogger("edge_app.test").info("opening %s", "synthetic\n2026-12-07 INFO edge_app: forged")
        try:
            raise ValueError("boom")
        except ValueError:
            logging.getLogger("edge_app.test").exception("failed on %s", "x\x1by")
    finally:
        logging.getLogger().removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert lines[0].endswith("opening synthetic\\n2026-12-07 INFO edge_app: forged")
    assert lines[1].endswith("failed on x\\x1by") and "Traceback" in lines[2]  # the traceback keeps its lines
    assert "\x1b" not in stream.getvalue()


def test_the_journal_gets_one_prefixed_line() -> None:
    record = logging.LogRecord("edge_app", logging.WARNING, __file__, 1, "source %s", ("a\nb",), None)
    assert JournalFormatter("%(name)s: %(message)s").format(record) == "<4>edge_app: source a\\nb"


def test_a_newline_in_a_variable_or_an_esc_in_its_name_is_printed_escaped(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDGE_APP_SOURCE", "nowhere\nedge-app: error: forged")
    monkeypatch.setenv("EDGE_APP_X\x1bY", "1")
    run = run_cli(capsys, "run", "--max-frames", "1")
    assert "\x1b" not in run.err and "EDGE_APP_X\\x1bY" in run.err
    error = [line for line in run.err.splitlines() if "error" in line]
    assert len(error) == 1 and "nowhere\\nedge-app: error: forged" in error[0]
    warned = run.err.splitlines()[0]
    assert warned.startswith("edge-app: warning: ignoring unknown environment variable")
    assert_one_line_error(type(run)(run.code, run.out, "\n".join(error) + "\n"), "nowhere")
