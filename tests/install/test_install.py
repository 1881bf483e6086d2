"""Install and uninstall plans, their steps, and the checks that run before them (no root needed)."""

from __future__ import annotations

import grp
import io
import os
import pwd
import stat
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

import pytest

from edge_app.errors import EdgeAppError
from edge_app.install import access, unit
from edge_app.install import plan as install
from edge_app.install.steps import Command, Remove, Step, WriteFile, execute, run_command

MY_GROUP = grp.getgrgid(os.getgid()).gr_name  # a group WriteFile can chown to in a test

S = TypeVar("S", bound=Step)


def step_as(kind: type[S], step: Step) -> S:
    """A plan's step, which the test knows to be a `kind` (to read its fields)."""
    assert isinstance(step, kind), step
    return step


class FakeRunner:
    def __init__(self) -> None:
        self.commands: list[tuple[str, ...]] = []

    def __call__(self, argv: Sequence[str], ok_codes: Sequence[int]) -> None:
        self.commands.append(tuple(argv))


def fresh_machine() -> install.Machine:
    return install.Machine(user_exists=False, config_exists=False, groups=("video", "plugdev"))


def test_install_plan_on_a_fresh_machine() -> None:
    request = install.InstallRequest()
    steps = install.install_plan(request, fresh_machine(), "UNIT", "CONFIG")
    assert [type(s) for s in steps] == [Command, WriteFile, WriteFile, Command, Command, Command]
    useradd = step_as(Command, steps[0]).argv
    assert useradd[:2] == ("useradd", "--system") and useradd[-1] == "edge-app"
    assert "--user-group" in useradd and "/usr/sbin/nologin" in useradd
    config, unit_file = step_as(WriteFile, steps[1]), step_as(WriteFile, steps[2])
    assert (config.path, config.text, config.mode, config.group) == (
        Path("/etc/edge-app/config.toml"),
        "CONFIG",
        0o640,
        "edge-app",
    )
    assert (unit_file.path, unit_file.text, unit_file.mode) == (
        Path("/etc/systemd/system/edge-app.service"),
        "UNIT",
        0o644,
    )
    assert [step_as(Command, s).argv for s in steps[3:]] == [
        ("systemctl", "daemon-reload"),
        ("systemctl", "enable", "edge-app.service"),
        ("systemctl", "restart", "--no-block", "edge-app.service"),
    ]


def test_install_plan_keeps_an_existing_user_and_config() -> None:
    machine = install.Machine(user_exists=True, config_exists=True, groups=())
    steps = install.install_plan(install.InstallRequest(user="cams"), machine, "UNIT", "CONFIG")
    assert [s.describe() for s in steps[:2]] == [
        "skip: user cams exists",
        "skip: keep the existing /etc/edge-app/config.toml",
    ]


def test_an_existing_users_own_primary_group_is_used() -> None:
    machine = install.Machine(user_exists=True, config_exists=False, groups=("video",), user_group="users")
    request = install.InstallRequest(user="pi")
    steps = install.install_plan(request, machine, "UNIT", "CONFIG")
    assert step_as(WriteFile, steps[1]).group == "users"
    options = install.unit_options(request, machine)
    assert "User=pi\nGroup=users\nSupplementaryGroups=video\n" in unit.render(options)
    assert install.primary_group(pwd.getpwuid(os.getuid()).pw_name) == MY_GROUP
    assert install.primary_group("no-such-user-edge-app-test") is None


def test_real_run_writes_files_and_runs_commands_in_order(tmp_path: Path) -> None:
    request = install.InstallRequest(
        user=MY_GROUP, config=tmp_path / "etc" / "config.toml", unit_dir=tmp_path / "units"
    )
    steps = install.install_plan(request, fresh_machine(), "[Unit]\n", "# config\n")
    runner, out = FakeRunner(), io.StringIO()
    execute(steps, out, dry_run=False, run=runner)
    assert [argv[0] for argv in runner.commands] == ["useradd", "systemctl", "systemctl", "systemctl"]
    assert request.config.read_text() == "# config\n"
    assert stat.S_IMODE(request.config.stat().st_mode) == 0o640
    assert request.unit_path.read_text() == "[Unit]\n"
    assert stat.S_IMODE(request.unit_path.stat().st_mode) == 0o644
    assert sorted(p.name for p in request.unit_path.parent.iterdir()) == ["edge-app.service"]  # no temp file left
    assert out.getvalue().splitlines()[0].startswith("# step 1/6: useradd --system")


def test_dry_run_prints_what_a_real_run_prints_and_touches_nothing(tmp_path: Path) -> None:
    request = install.InstallRequest(
        user=MY_GROUP, config=tmp_path / "etc" / "config.toml", unit_dir=tmp_path / "units"
    )
    steps = install.install_plan(request, fresh_machine(), "[Unit]\n", "# config\n")
    runner, dry, real = FakeRunner(), io.StringIO(), io.StringIO()
    execute(steps, dry, dry_run=True, run=runner)
    assert runner.commands == [] and list(tmp_path.iterdir()) == []
    execute(steps, real, dry_run=False, run=runner)
    assert dry.getvalue() == real.getvalue()
    assert len(runner.commands) == 4 and request.unit_path.exists()


def test_uninstall_keeps_data_unless_purge() -> None:
    machine = install.Machine(user_exists=True, config_exists=True, groups=(), unit_installed=True)
    steps = install.uninstall_plan(install.InstallRequest(), machine, purge=False)
    assert [s.describe() for s in steps] == [
        "systemctl disable --now edge-app.service",
        "remove /etc/systemd/system/edge-app.service",
        "systemctl daemon-reload",
        "systemctl reset-failed edge-app.service",
        "skip: keep /etc/edge-app, /var/lib/edge-app, /var/cache/edge-app and user edge-app (--purge removes them)",
    ]


def test_purge_removes_only_what_the_service_owns() -> None:
    machine = install.Machine(user_exists=True, config_exists=True, groups=(), unit_installed=False)
    request = install.InstallRequest(config=Path("/home/pi/edge.toml"))
    steps = install.uninstall_plan(request, machine, purge=True)
    removed = [s.path for s in steps if isinstance(s, Remove)]
    assert removed == [Path("/etc/edge-app"), Path("/var/lib/edge-app"), Path("/var/cache/edge-app")]
    assert "skip: keep /home/pi/edge.toml: it is outside /etc/edge-app" in [s.describe() for s in steps]
    assert steps[-1].describe() == "userdel edge-app"


def test_remove_step_deletes_files_and_folders_and_tolerates_absence(tmp_path: Path) -> None:
    folder = tmp_path / "state"
    (folder / "models").mkdir(parents=True)
    (folder / "models" / "m.tflite").write_bytes(b"x")
    Remove(folder).apply(FakeRunner())
    Remove(folder).apply(FakeRunner())
    assert not folder.exists()


def test_installed_request_is_read_back_from_the_unit(tmp_path: Path) -> None:
    options = unit.UnitOptions(
        exec_start=("/opt/edge-app/bin/edge-app", "run", "--config", "/srv/my cams/100%.toml"), user="cams"
    )
    (tmp_path / unit.UNIT_NAME).write_text(unit.render(options))
    request = install.installed_request(tmp_path)
    assert (request.user, request.config) == ("cams", Path("/srv/my cams/100%.toml"))
    assert install.installed_request(tmp_path / "none") == install.InstallRequest(unit_dir=tmp_path / "none")


def test_run_command_reports_the_tools_last_words() -> None:
    run_command(["sh", "-c", "exit 1"], ok_codes=(0, 1))
    with pytest.raises(
        EdgeAppError, match=r"`sh -c 'echo first >&2; echo oops >&2; exit 3'` failed with exit code 3: oops"
    ):
        run_command(["sh", "-c", "echo first >&2; echo oops >&2; exit 3"])
    with pytest.raises(EdgeAppError, match="no-such-tool-here not found"):
        run_command(["no-such-tool-here"])


def test_not_root_is_one_line_with_sudo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(EdgeAppError) as caught:
        install.require_root("service install")
    text = str(caught.value)
    assert "`edge-app service install` needs root" in text and "run: sudo " in text and "--dry-run" in text
    assert "\n" not in text


def test_no_systemd_is_said_plainly(tmp_path: Path) -> None:
    with pytest.raises(EdgeAppError, match="systemd is not running on this machine"):
        install.require_systemd(tmp_path / "missing")
    install.require_systemd(tmp_path)


def test_default_config_text_comes_from_settings() -> None:
    from edge_app.settings import default_config_text

    text = default_config_text()
    assert "[output]" in text and text.startswith("#")


STRANGER = access.Identity(uid=None, gids=frozenset({44}))  # a user install has yet to create, in group video (44)


def modes(table: dict[str, tuple[int, int, int]]):
    """A fake stat: path -> (mode, uid, gid); anything unlisted is a root-owned 0755 folder."""

    def fake_stat(path: Path) -> os.stat_result:
        mode, uid, gid = table.get(str(path), (stat.S_IFDIR | 0o755, 0, 0))
        return os.stat_result((mode, 0, 0, 0, uid, gid, 0, 0, 0, 0))

    return fake_stat


def test_a_venv_under_a_closed_home_is_found() -> None:
    fake = modes(
        {"/home/pi": (stat.S_IFDIR | 0o700, 1000, 1000), "/opt/edge-app/bin/python": (stat.S_IFREG | 0o755, 0, 0)}
    )
    problem = access.blocked(Path("/home/pi/venv/bin/python"), STRANGER, fake)
    assert str(problem) == "the service user cannot use /home/pi/venv/bin/python: /home/pi is closed to it (mode 0700)"
    assert access.blocked(Path("/opt/edge-app/bin/python"), STRANGER, fake) is None
    private_file = modes({"/opt/x/bin/python": (stat.S_IFREG | 0o750, 0, 0)})
    assert "it is closed to it (mode 0750)" in str(access.blocked(Path("/opt/x/bin/python"), STRANGER, private_file))


def test_owner_and_group_bits_count_for_an_existing_user() -> None:
    fake = modes({"/home/pi": (stat.S_IFDIR | 0o750, 1000, 1000), "/srv/cams": (stat.S_IFDIR | 0o750, 0, 44)})
    assert (
        access.blocked(Path("/home/pi/venv/bin/python"), access.Identity(1000, frozenset({1000})), fake) is None
    )  # --user pi
    assert access.blocked(Path("/home/pi/venv/bin/python"), access.Identity(1001, frozenset({1001})), fake) is not None
    assert access.blocked(Path("/srv/cams/venv/bin/python"), STRANGER, fake) is None  # through group video


def test_service_identity_of_a_user_yet_to_be_created() -> None:
    who = access.service_identity("no-such-user-edge-app-test", [MY_GROUP, "no-such-group-edge-app-test"])
    assert who == access.Identity(None, frozenset({os.getgid()}))


def test_a_venv_in_tmp_is_found() -> None:
    found = access.problems([Path("/tmp/v1/bin/python"), Path("/opt/edge-app/bin/python")], STRANGER, modes({}))
    assert [p.path for p in found] == [Path("/tmp/v1/bin/python")]
    assert "PrivateTmp" in found[0].reason


def test_installation_paths_include_the_real_interpreter_and_the_package() -> None:
    paths = access.installation_paths()
    assert paths[0] == Path(sys.executable)
    assert Path(os.path.realpath(sys.executable)) in paths
    assert any((p / "install" / "plan.py").is_file() for p in paths)


def test_unreachable_installation_stops_a_real_install() -> None:
    with pytest.raises(EdgeAppError, match="/home/pi is closed to it.*sudo /usr/bin/python3 -m venv /opt/edge-app"):
        install.check_reachable(
            [access.Problem(Path("/home/pi/venv/bin/python"), "/home/pi is closed to it (mode 0700)")]
        )
    install.check_reachable([])


def test_fix_hint_reinstalls_this_checkout_into_opt() -> None:
    checkout = Path(__file__).resolve().parents[2]
    assert access.pip_source() == str(checkout)
    assert (
        f"sudo /opt/edge-app/bin/pip install {checkout} && sudo /opt/edge-app/bin/edge-app service install"
        in access.fix_hint()
    )


def test_fix_hint_reinstalls_from_where_pip_installed_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """`pip install .` (the README's way) records the folder: the hint must not say `pip install edge-app`."""
    assert access.installed_from('{"url": "file:///home/pi/edge-app", "dir_info": {}}') == "/home/pi/edge-app"
    assert (
        access.installed_from('{"url": "file:///home/pi/my%20apps/edge-app", "dir_info": {"editable": true}}')
        == "/home/pi/my apps/edge-app"
    )
    git = '{"url": "https://example.org/edge-app.git", "vcs_info": {"vcs": "git", "commit_id": "abc123"}}'
    assert access.installed_from(git) == "git+https://example.org/edge-app.git@abc123"
    assert (
        access.installed_from('{"url": "https://example.org/edge_app-0.1.0.tar.gz", "archive_info": {}}')
        == "https://example.org/edge_app-0.1.0.tar.gz"
    )
    assert access.installed_from(None) is None and access.installed_from("not json") is None
    monkeypatch.setattr(access, "_direct_url", lambda: '{"url": "file:///srv/edge-app", "dir_info": {}}')
    monkeypatch.setattr(
        access.Path, "is_file", lambda self: False
    )  # as in site-packages: no pyproject.toml beside the package
    assert access.pip_source() == "/srv/edge-app"
    assert "sudo /opt/edge-app/bin/pip install /srv/edge-app &&" in access.fix_hint()
    monkeypatch.setattr(access, "_direct_url", lambda: None)
    assert access.pip_source() == "edge-app", "installed from an index: by name"
