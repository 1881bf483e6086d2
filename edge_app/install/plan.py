"""Plans for `edge-app service install` and `uninstall`: pure functions of what the machine
looks like (Machine), so they are tested without root, systemd or a real user database."""

from __future__ import annotations

import grp
import os
import pwd
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from edge_app.errors import EdgeAppError
from edge_app.install import access, unit
from edge_app.install.steps import Command, Remove, Skip, Step, WriteFile
from edge_app.paths import SERVICE_STATE, SYSTEM_CONFIG

CONFIG_DIR = SYSTEM_CONFIG.parent
STATE_DIR = SERVICE_STATE
CACHE_DIR = Path("/var/cache/edge-app")
SYSTEMD_RUNNING = Path("/run/systemd/system")  # what sd_booted() checks


@dataclass(frozen=True)
class InstallRequest:
    user: str = unit.DEFAULT_USER
    config: Path = SYSTEM_CONFIG
    unit_dir: Path = unit.UNIT_DIR

    @property
    def unit_path(self) -> Path:
        return self.unit_dir / unit.UNIT_NAME


@dataclass(frozen=True)
class Machine:
    """The facts a plan depends on."""

    user_exists: bool
    config_exists: bool
    groups: tuple[str, ...]  # device groups that exist here
    unit_installed: bool = False
    user_group: str | None = None  # an existing user's primary group (not always named like the user)


def primary_group(user: str) -> str | None:
    """An existing user's primary group name (its number if it has no name); None: no such user."""
    try:
        gid = pwd.getpwnam(user).pw_gid
    except KeyError:
        return None
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def probe(request: InstallRequest) -> Machine:
    group = primary_group(request.user)
    return Machine(
        user_exists=group is not None,
        user_group=group,
        config_exists=request.config.exists(),
        groups=unit.existing_groups(),
        unit_installed=request.unit_path.exists(),
    )


def unit_options(request: InstallRequest, machine: Machine, executable: Path | None = None) -> unit.UnitOptions:
    argv = unit.exec_start(request.config, executable)
    reach = [*access.installation_paths(executable), request.config]
    return unit.UnitOptions(
        exec_start=argv,
        user=request.user,
        group=machine.user_group,
        groups=machine.groups,
        protect_home=unit.protect_home(reach),
    )


def install_plan(request: InstallRequest, machine: Machine, unit_text: str, config_text: str) -> list[Step]:
    user = request.user
    steps: list[Step] = []
    if machine.user_exists:
        steps.append(Skip(f"user {user} exists"))
    else:
        steps.append(
            Command(
                (
                    "useradd",
                    "--system",
                    "--user-group",
                    "--home-dir",
                    str(STATE_DIR),
                    "--no-create-home",
                    "--shell",
                    "/usr/sbin/nologin",
                    "--comment",
                    "edge-app service",
                    user,
                )
            )
        )
    if machine.config_exists:
        steps.append(Skip(f"keep the existing {request.config}"))
    else:  # 0640: a config may hold an MQTT password; the service reads it through its group
        steps.append(WriteFile(request.config, config_text, 0o640, group=machine.user_group or user))
    steps += [
        WriteFile(request.unit_path, unit_text, 0o644),
        Command(("systemctl", "daemon-reload")),
        Command(("systemctl", "enable", unit.UNIT_NAME)),
        # restart, not start: a re-install takes effect. --no-block: READY=1 waits for a first
        # frame, and a camera that is not plugged in yet must not hang the installer.
        Command(("systemctl", "restart", "--no-block", unit.UNIT_NAME)),
    ]
    return steps


def uninstall_plan(request: InstallRequest, machine: Machine, purge: bool) -> list[Step]:
    steps: list[Step] = []
    if machine.unit_installed:
        steps += [
            Command(("systemctl", "disable", "--now", unit.UNIT_NAME)),
            Remove(request.unit_path),
            Command(("systemctl", "daemon-reload")),
            Command(("systemctl", "reset-failed", unit.UNIT_NAME), ok_codes=(0, 1)),  # 1: it had not failed
        ]
    else:
        steps.append(Skip(f"{request.unit_path} is not installed"))
    if not purge:
        steps.append(
            Skip(f"keep {CONFIG_DIR}, {STATE_DIR}, {CACHE_DIR} and user {request.user} (--purge removes them)")
        )
        return steps
    steps += [Remove(CONFIG_DIR), Remove(STATE_DIR), Remove(CACHE_DIR)]
    if CONFIG_DIR not in request.config.parents:  # the user's own file elsewhere: never delete its folder
        steps.append(Skip(f"keep {request.config}: it is outside {CONFIG_DIR}"))
    steps.append(
        Command(("userdel", request.user)) if machine.user_exists else Skip(f"user {request.user} does not exist")
    )
    return steps


def installed_setting(unit_text: str, key: str) -> str | None:
    """The value of `Key=` in an installed unit (the last one wins, as in systemd)."""
    found = None
    for line in unit_text.splitlines():
        name, sep, value = line.strip().partition("=")
        if sep and name == key:
            found = value
    return found


def installed_request(unit_dir: Path = unit.UNIT_DIR) -> InstallRequest:
    """What `service install` was asked for, read back from the installed unit (defaults if none)."""
    path = unit_dir / unit.UNIT_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return InstallRequest(unit_dir=unit_dir)
    user = installed_setting(text, "User") or unit.DEFAULT_USER
    try:
        words = [word.replace("%%", "%") for word in shlex.split(installed_setting(text, "ExecStart") or "")]
    except ValueError:  # hand-edited beyond recognition: fall back to the defaults
        words = []
    config = Path(words[words.index("--config") + 1]) if "--config" in words[:-1] else SYSTEM_CONFIG
    return InstallRequest(user=user, config=config, unit_dir=unit_dir)


def require_root(command: str) -> None:
    if os.geteuid() != 0:
        raise EdgeAppError(
            f"`edge-app {command}` needs root",
            f"run: sudo {shlex.join(unit.program())} {command} (add --dry-run to see what it would do)",
        )


def require_systemd(running: Path | None = None) -> None:
    if not (running or SYSTEMD_RUNNING).is_dir():
        raise EdgeAppError(
            "systemd is not running on this machine",
            "the service needs a system booted with systemd (e.g. Raspberry Pi OS)",
        )


def check_reachable(problems: Sequence[access.Problem]) -> None:
    if problems:
        raise EdgeAppError(str(problems[0]), access.fix_hint())
