"""`edge-app service ...` end to end through the real entry point (dry runs and refusals only)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from edge_app.cli import main
from edge_app.install import access, steps
from edge_app.install import plan as install
from edge_app.install.status import live_view_line
from tests.helpers.needs import require_tool


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main(list(args))
    out, err = capsys.readouterr()
    return int(done.value.code or 0), out, err


@pytest.fixture
def nothing_may_change(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any step applied during the test fails it: a dry run must only print."""

    def forbidden(self: object, run: object) -> None:
        raise AssertionError(f"dry run applied: {self}")

    for step in (steps.Command, steps.WriteFile, steps.Remove):
        monkeypatch.setattr(step, "apply", forbidden)


@pytest.fixture
def not_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)


@pytest.fixture
def reachable(monkeypatch: pytest.MonkeyPatch) -> None:
    """The service user could reach this installation (a test venv under /tmp or /root is not)."""
    monkeypatch.setattr(access, "problems", lambda paths, who: [])


def test_dry_run_prints_steps_and_a_unit_that_systemd_accepts(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, nothing_may_change: None, not_root: None, reachable: None
) -> None:
    code, out, err = run_cli(capsys, "service", "install", "--dry-run")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].startswith("# edge-app service install --dry-run: nothing is changed")
    step_lines = [line for line in lines if line.startswith("# step ")]
    assert step_lines[-1].endswith("systemctl restart --no-block edge-app.service")
    assert any("write /etc/systemd/system/edge-app.service" in line for line in step_lines)
    assert "[Service]" in lines and "Type=notify" in lines
    exec_start = next(line for line in lines if line.startswith("ExecStart="))
    assert exec_start.endswith("run --config /etc/edge-app/config.toml")
    analyze = require_tool("systemd-analyze", "the unit is printed but not verified here; apt-get install systemd")
    unit_file = tmp_path / "edge-app.service"
    unit_file.write_text(out)  # the whole output: steps and warnings are '#' comments
    verified = subprocess.run([analyze, "verify", str(unit_file)], capture_output=True, text=True, timeout=60)
    assert verified.returncode == 0 and verified.stderr == "", verified.stderr


def test_dry_run_validates_an_existing_config_and_keeps_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, nothing_may_change: None, reachable: None
) -> None:
    good = tmp_path / "good.toml"
    good.write_text('[output]\nhttp = "0.0.0.0:8080"\n')
    code, out, _ = run_cli(capsys, "service", "install", "--dry-run", "--config", str(good))
    assert code == 0 and f"skip: keep the existing {good}" in out and f"--config {good}" in out
    bad = tmp_path / "bad.toml"
    bad.write_text("[output]\nhtp = 8080\n")
    code, out, err = run_cli(capsys, "service", "install", "--dry-run", "--config", str(bad))
    assert code == 2, "the dry run says the service could not start"
    assert f"# warning: config file {bad}: unknown key 'htp' in [output]" in out and "[Service]" in out
    assert (
        err
        == "edge-app: error: the service as planned cannot run: its config file is broken (the warning above); fix it\n"
    )


def test_a_dry_run_whose_warnings_say_the_service_cannot_run_fails(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, nothing_may_change: None, not_root: None
) -> None:
    blocked = [access.Problem(Path("/root/venv/bin/python"), "/root is closed to it (mode 0700)")]
    monkeypatch.setattr(access, "problems", lambda paths, who: blocked)
    code, out, err = run_cli(capsys, "service", "install", "--dry-run")
    assert code == 2
    assert f"# warning: {blocked[0]}" in out and "ExecStart=" in out  # the whole plan is still shown
    assert err.count("\n") == 1 and "the service as planned cannot run" in err and "reach 1 path " in err
    assert "sudo /usr/bin/python3 -m venv /opt/edge-app" in err


@pytest.mark.parametrize(
    "command", [["service", "install"], ["service", "uninstall"], ["service", "uninstall", "--purge"]]
)
def test_not_root_is_refused_in_one_line(
    capsys: pytest.CaptureFixture[str], not_root: None, nothing_may_change: None, command: list[str]
) -> None:
    code, out, err = run_cli(capsys, *command)
    assert code == 2 and out == ""
    assert err.count("\n") == 1
    assert err.startswith(f"edge-app: error: `edge-app {' '.join(command[:2])}` needs root; run: sudo ")


@pytest.mark.parametrize(("user", "message"), [("root", "full power"), ("Edge App", "not a valid system user name")])
def test_bad_service_users_are_refused(capsys: pytest.CaptureFixture[str], user: str, message: str) -> None:
    code, _, err = run_cli(capsys, "service", "install", "--dry-run", "--user", user)
    assert code == 2 and message in err


def test_uninstall_dry_run_lists_steps(
    capsys: pytest.CaptureFixture[str], nothing_may_change: None, not_root: None
) -> None:
    code, out, _ = run_cli(capsys, "service", "uninstall", "--dry-run", "--purge")
    assert code == 0
    assert "# step" in out and "remove /var/cache/edge-app" in out


def test_status_without_systemd_says_so(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(install, "SYSTEMD_RUNNING", tmp_path / "not-booted-with-systemd")
    code, _, err = run_cli(capsys, "service", "status")
    assert (
        code == 2
        and err
        == "edge-app: error: systemd is not running on this machine; the service needs a system booted with "
        "systemd (e.g. Raspberry Pi OS)\n"
    )


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        (
            '[output]\nhttp = "0.0.0.0:8080"\n',
            "live view: http://pi.local:8080/ from other machines, http://127.0.0.1:8080/ on this one",
        ),
        (
            '[output]\nhttp = "8081"\n',
            'live view: http://127.0.0.1:8081/ (this machine only; set http = "0.0.0.0:8081"',
        ),
        ('[output]\nhttp = "192.168.1.20:80"\n', "live view: http://192.168.1.20:80/"),
        ("[model]\n", "live view: http://127.0.0.1:8080/ by default, as no output is set (this machine only"),
        (
            '[output]\nevents = "/var/lib/edge-app/events.jsonl"\n',
            'live view: off; to watch in a browser set  http = "0.0.0.0:8080"  under [output]',
        ),
        ("[output\n", "live view: unknown (config file"),
    ],
)
def test_live_view_line(tmp_path: Path, toml: str, expected: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(toml)
    assert live_view_line(config, hostname="pi").startswith(expected)
