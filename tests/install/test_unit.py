"""The systemd unit: rendered with real paths, accepted by systemd-analyze, sandboxed to exposure <= 2.0."""

from __future__ import annotations

import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from edge_app.install import unit
from tests.helpers.needs import require_tool
from tests.helpers.shared_data import ROOT

MAX_EXPOSURE = 2.0


@pytest.fixture
def systemd_analyze() -> str:
    """Skipped where missing; a failure under EDGE_APP_REQUIRE_TOOLS=1 (CI installs Debian's systemd)."""
    return require_tool("systemd-analyze", "apt-get install systemd")


needs_analyze = pytest.mark.usefixtures("systemd_analyze")


def settings(text: str) -> dict[str, list[str]]:
    """Key -> every value it is given, across sections."""
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.startswith("#"):
            found.setdefault(key, []).append(value)
    return found


def section_of(text: str, key: str) -> str:
    section = ""
    for line in text.splitlines():
        if line.startswith("["):
            section = line
        elif line.startswith(key + "="):
            return section
    raise AssertionError(f"{key} not in unit")


def this_installation(**overrides: object) -> str:
    options = unit.UnitOptions(exec_start=unit.exec_start(), groups=unit.existing_groups())
    return unit.render(unit.UnitOptions(**{**options.__dict__, **overrides}))


def test_unit_has_what_the_issue_asks_for() -> None:
    text = this_installation()
    s = settings(text)
    assert s["Type"] == ["notify"] and s["NotifyAccess"] == ["main"]
    assert int(s["WatchdogSec"][0]) >= 10
    assert s["Restart"] == ["on-failure"] and s["RestartSec"]
    assert section_of(text, "StartLimitIntervalSec") == section_of(text, "StartLimitBurst") == "[Unit]"
    assert s["TimeoutStopSec"]
    assert s["User"] == s["Group"] == ["edge-app"]
    assert s["StateDirectory"] == s["CacheDirectory"] == s["ConfigurationDirectory"] == ["edge-app"]
    assert "PYTHONUNBUFFERED=1" in s["Environment"]
    assert "EDGE_APP_MODELS=%C/edge-app/models" in s["Environment"]
    assert s["DevicePolicy"] == ["closed"]
    allowed = {value.split()[0] for value in s["DeviceAllow"]}
    assert allowed == {"char-video4linux", "char-media", "char-dma_heap", "char-usb_device", "char-apex"}
    families = s["RestrictAddressFamilies"][0].split()
    assert {"AF_UNIX", "AF_INET", "AF_INET6", "AF_NETLINK"} <= set(families)
    assert s["ProtectSystem"] == ["strict"]
    assert "MemoryDenyWriteExecute" not in s and "PrivateDevices" not in s and "PrivateUsers" not in s
    # a flood of clients meets the live view's own caps (sized from LimitNOFILE), not these
    assert s["LimitNOFILE"] == ["4096"] and s["TasksMax"] == ["256"] and s["MemoryMax"] == ["512M"]
    assert s["ExecStart"][0].startswith(str(Path(sys.executable).parent))  # this venv, not a guess
    assert s["ExecStart"][0].endswith(" run --config /etc/edge-app/config.toml")


def test_shipped_unit_is_the_template_rendered_for_opt() -> None:
    shipped = (ROOT / "systemd" / "edge-app.service").read_text(encoding="utf-8")
    assert shipped == unit.shipped_unit(), "regenerate: python -m edge_app.install.unit > systemd/edge-app.service"
    assert "ExecStart=/opt/edge-app/bin/edge-app run --config /etc/edge-app/config.toml" in shipped


def test_exec_start_words_are_escaped_for_systemd() -> None:
    assert unit.quote_arg("/opt/edge-app/bin/edge-app") == "/opt/edge-app/bin/edge-app"
    assert unit.quote_arg("/srv/my cams/edge-app") == '"/srv/my cams/edge-app"'
    assert unit.quote_arg("/srv/100%/$HOME") == "/srv/100%%/$$HOME"  # no specifier or variable expansion
    assert unit.quote_arg('say "hi"') == '"say \\"hi\\""'


def test_program_prefers_the_venv_script_and_falls_back_to_python_m(tmp_path: Path) -> None:
    python = tmp_path / "bin" / "python"
    python.parent.mkdir()
    python.touch()
    assert unit.program(python) == (str(python), "-m", "edge_app")
    script = tmp_path / "bin" / "edge-app"
    script.write_text("#!/bin/sh\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    assert unit.program(python) == (str(script),)


def test_only_existing_device_groups_are_named() -> None:
    present = {"video", "apex"}

    def lookup(name: str) -> object:
        if name not in present:
            raise KeyError(name)
        return name

    assert unit.existing_groups(lookup=lookup) == ("video", "apex")


def test_protect_home_is_relaxed_only_for_installations_under_home() -> None:
    assert unit.protect_home([Path("/opt/edge-app/bin/python"), Path("/usr/bin/python3.11")]) == "yes"
    assert unit.protect_home([Path("/opt/edge-app/bin/python"), Path("/home/pi/.pyenv/bin/python3")]) == "read-only"
    assert unit.protect_home([Path("/root/venv/bin/python")]) == "read-only"
    assert unit.protect_home([Path("/homework/x")]) == "yes"


def analyze(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["systemd-analyze", *args], capture_output=True, text=True, timeout=60)


def write_unit(tmp_path: Path, text: str) -> Path:
    path = tmp_path / unit.UNIT_NAME
    path.write_text(text, encoding="utf-8")
    return path


def exposure(path: Path) -> float:
    done = analyze("security", "--offline=yes", str(path))
    match = re.search(r"Overall exposure level for \S+: (\d+(?:\.\d+)?)", done.stdout)
    assert match, done.stdout + done.stderr
    return float(match.group(1))


@needs_analyze
def test_rendered_unit_passes_verify_with_nothing_on_stderr(tmp_path: Path) -> None:
    done = analyze("verify", str(write_unit(tmp_path, this_installation())))
    assert done.returncode == 0 and done.stderr == "", done.stderr


@needs_analyze
def test_verify_is_not_a_rubber_stamp(tmp_path: Path) -> None:
    broken = this_installation().replace("Type=notify", "Type=notifyy")
    broken = re.sub(r"^ExecStart=\S+", "ExecStart=/nonexistent/edge-app", broken, flags=re.M)
    done = analyze("verify", str(write_unit(tmp_path, broken)))
    assert "notifyy" in done.stderr and "/nonexistent/edge-app" in done.stderr


@needs_analyze
@pytest.mark.parametrize("protect_home", ["yes", "read-only"])
def test_exposure_is_at_most_2(tmp_path: Path, protect_home: str) -> None:
    level = exposure(write_unit(tmp_path, this_installation(protect_home=protect_home)))
    print(f"exposure with ProtectHome={protect_home}: {level}")
    assert level <= MAX_EXPOSURE


@needs_analyze
def test_exposure_measure_can_fail(tmp_path: Path) -> None:
    bare = "[Service]\nExecStart=/bin/true\n"
    assert exposure(write_unit(tmp_path, bare)) > MAX_EXPOSURE
