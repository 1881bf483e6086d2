"""`edge-app service install | uninstall | status`: run edge-app on boot under systemd."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import typer

from edge_app.errors import EdgeAppError
from edge_app.paths import SYSTEM_CONFIG

USER_NAME = re.compile(r"[a-z_][a-z0-9_-]{0,30}")


def _check_user(name: str) -> str:
    if name == "root":
        raise EdgeAppError(
            "--user root would run the camera service with full power over the machine",
            "keep the default, --user edge-app",
        )
    if not USER_NAME.fullmatch(name):
        raise EdgeAppError(
            f"--user {name!r} is not a valid system user name", "use lower-case letters, digits, - and _, e.g. edge-app"
        )
    return name


def _check_config(path: Path, warn: bool) -> bool:
    """An existing config is validated now, not discovered broken in a restart loop. With `warn`
    (a dry run) a broken one is a warning line, and False."""
    from edge_app.settings import read_config_file

    try:
        read_config_file(path)
    except EdgeAppError as exc:
        if not warn:
            raise
        print(f"# warning: {exc}")
        return False
    return True


def _dry_run_verdict(problems: int, config_ok: bool) -> None:
    """A dry run whose warnings say the service cannot run fails, as the install itself would."""
    from edge_app.install import access
    from edge_app.words import plural

    if problems:
        raise EdgeAppError(
            f"the service as planned cannot run: the service user cannot reach {plural(problems, 'path')} (the"
            " warnings above)",
            access.fix_hint(),
        )
    if not config_ok:
        raise EdgeAppError("the service as planned cannot run: its config file is broken (the warning above)", "fix it")


def install(
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the unit and the steps; change nothing."),
    user: str = typer.Option("edge-app", "--user", help="System user the service runs as (created if missing)."),
    config: Path = typer.Option(SYSTEM_CONFIG, "--config", help="Config file the service reads (written if missing)."),
) -> None:
    """Install, enable and start the edge-app systemd service for this installation."""
    from edge_app.install import access, plan, unit
    from edge_app.install.steps import execute
    from edge_app.settings import default_config_text

    request = plan.InstallRequest(user=_check_user(user), config=config.absolute())
    if not dry_run:
        plan.require_root("service install")
        plan.require_systemd()
    machine = plan.probe(request)
    problems = access.problems(access.installation_paths(), access.service_identity(request.user, machine.groups))
    unit_text = unit.render(plan.unit_options(request, machine))
    steps = plan.install_plan(request, machine, unit_text, default_config_text())
    if dry_run:
        print(f"# edge-app service install --dry-run: nothing is changed. The steps, then {request.unit_path}:")
        for problem in problems:
            print(f"# warning: {problem}")
        if problems:
            print(f"# to fix: {access.fix_hint()}")
    else:
        plan.check_reachable(problems)
    config_ok = not machine.config_exists or _check_config(request.config, warn=dry_run)
    execute(steps, sys.stdout, dry_run)
    if dry_run:
        print(unit_text, end="")
        _dry_run_verdict(len(problems), config_ok)
        return
    print(f"edge-app is enabled and starting. Follow it with: journalctl -u {unit.UNIT_NAME} -f")
    print("Check it with: edge-app service status")


def uninstall(
    purge: bool = typer.Option(
        False, "--purge", help="Also remove the config, state and model cache, and the service user."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the steps; change nothing."),
) -> None:
    """Stop, disable and remove the edge-app service (config and cache stay unless --purge)."""
    from edge_app.install import plan
    from edge_app.install.steps import execute

    if not dry_run:
        plan.require_root("service uninstall")
        plan.require_systemd()
    request = plan.installed_request()
    execute(plan.uninstall_plan(request, plan.probe(request), purge), sys.stdout, dry_run)


def status() -> None:
    """Show whether the service runs (systemctl status) and where to watch its live view."""
    from edge_app.install import plan, unit
    from edge_app.install.status import live_view_line

    plan.require_systemd()
    request = plan.installed_request()
    if not request.unit_path.exists():
        raise EdgeAppError("the edge-app service is not installed", "install it with: sudo edge-app service install")
    sys.stdout.flush()
    code = subprocess.run(["systemctl", "status", "--no-pager", "--lines=10", unit.UNIT_NAME], check=False).returncode
    print(live_view_line(request.config))
    raise typer.Exit(code)  # systemctl's: 0 running, 3 not running


def register(app: typer.Typer) -> None:
    service = typer.Typer(name="service", help="Run edge-app on boot as a systemd service.", no_args_is_help=True)
    service.command()(install)
    service.command()(uninstall)
    service.command()(status)
    app.add_typer(service, name="service")
