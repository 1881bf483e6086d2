"""Can the service user run this installation at all?

The service runs as a fresh system user, which gets only the "other" permission bits. A venv
under a 0700 home (the default on Raspberry Pi OS Bookworm), or a pyenv interpreter under
/root, is invisible to it; a venv under /tmp is hidden by PrivateTmp= and wiped at boot.
Found here, at install time, instead of as a "status=203/EXEC" loop after it.
"""

from __future__ import annotations

import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

TEMP_ROOTS = (Path("/tmp"), Path("/var/tmp"))
FIX = (
    "install edge-app where every user can read it, with the system Python: "
    "sudo /usr/bin/python3 -m venv /opt/edge-app && sudo /opt/edge-app/bin/pip install EDGE-APP-SOURCE "
    "&& sudo /opt/edge-app/bin/edge-app service install"
)


@dataclass(frozen=True)
class Problem:
    path: Path
    reason: str

    def __str__(self) -> str:
        return f"the service user cannot use {self.path}: {self.reason}"


def installation_paths(executable: Path | None = None) -> list[Path]:
    """What the service must reach: the venv's python, the interpreter it links to, and edge_app itself."""
    import edge_app

    executable = Path(sys.executable) if executable is None else executable
    paths = [executable, Path(os.path.realpath(executable)), Path(edge_app.__file__).resolve().parent]
    return list(dict.fromkeys(paths))


def blocked(path: Path, stat_fn: Callable[[Path], os.stat_result] = os.stat) -> Problem | None:
    """The first reason a user with only "other" permissions cannot reach `path`, if any."""
    for directory in reversed(path.parents):
        try:
            mode = stat_fn(directory).st_mode
        except OSError as exc:
            return Problem(path, f"{directory} is unreadable ({exc.strerror})")
        if not mode & stat.S_IXOTH:
            return Problem(path, f"{directory} is closed to other users (mode {stat.S_IMODE(mode):04o})")
    try:
        mode = stat_fn(path).st_mode
    except OSError as exc:
        return Problem(path, f"it is unreadable ({exc.strerror})")
    if not mode & stat.S_IROTH or (stat.S_ISDIR(mode) and not mode & stat.S_IXOTH):
        return Problem(path, f"it is closed to other users (mode {stat.S_IMODE(mode):04o})")
    return None


def in_temp(path: Path) -> Problem | None:
    if any(root in path.parents for root in TEMP_ROOTS):
        return Problem(path, "it is under a temporary folder, which the service does not see (PrivateTmp=) and boot wipes")
    return None


def problems(paths: list[Path], stat_fn: Callable[[Path], os.stat_result] = os.stat) -> list[Problem]:
    found = []
    for path in paths:
        problem = in_temp(path) or blocked(path, stat_fn)
        if problem:
            found.append(problem)
    return found
