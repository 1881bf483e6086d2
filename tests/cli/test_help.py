"""`--help` of every command: our flags show no "<bool>" (they take no value), and -h still works.
Typer's own -h/--help line is Typer's to draw: its public API gives no say in it."""

from __future__ import annotations

import pytest

from tests.fakes.cli_run import run_cli

COMMANDS = [
    [],
    ["run"],
    ["classify"],
    ["eval"],
    ["compare"],
    ["bench"],
    ["info"],
    ["models", "fetch"],
    ["service", "install"],
    ["config", "show"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "edge-app")
def test_flags_show_no_bool_placeholder(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    run = run_cli(capsys, *command, "--help")
    assert run.code == 0 and "Show this message and exit." in run.out
    ours = [line for line in run.out.splitlines() if "Show this message and exit." not in line]
    assert not [line for line in ours if "<bool>" in line]
    assert run_cli(capsys, *command, "-h").out == run.out


def test_value_options_keep_their_placeholder(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    out = run_cli(capsys, "bench", "--help").out
    assert "--json" in out and "<int" in out and "<str>" in out
