"""Can the service user run this installation at all?

The service usually runs as a fresh system user, which gets only the "other" permission bits. A venv
under a 0700 home (the default on Raspberry Pi OS Bookworm), or a pyenv interpreter under
/root, is invisible to it; a venv under /tmp is hidden by PrivateTmp= and wiped at boot.
Found here, at install time, instead of as a "status=203/EXEC" loop after it.
"""

from __future__ import annotations

import grp
import os
import pwd
import stat
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

TEMP_ROOTS = (Path("/tmp"), Path("/var/tmp"))


def pip_source() -> str:
    """What to pip-install again, as this copy was installed: its source tree (a checkout run in
    place or installed with `pip install -e .`), the folder or URL that `pip install .` recorded,
    else the package by name (installed from an index)."""
    import edge_app

    tree = Path(edge_app.__file__).resolve().parents[1]
    if (tree / "pyproject.toml").is_file():
        return str(tree)
    return installed_from(_direct_url()) or "edge-app"


def _direct_url() -> str | None:
    from importlib import metadata

    try:
        return metadata.distribution("edge-app").read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return None


def installed_from(direct_url: str | None) -> str | None:
    """pip's record of where a package came from (PEP 610 direct_url.json) -> what to give pip
    again: the local folder, or the VCS or archive URL; None for an index install."""
    import json
    from urllib.parse import urlsplit
    from urllib.request import url2pathname

    try:
        record = json.loads(direct_url or "")
    except ValueError:
        return None
    url = record.get("url", "") if isinstance(record, dict) else ""
    if url.startswith("file:"):
        return url2pathname(urlsplit(url).path)
    vcs = record.get("vcs_info") if url else None
    if isinstance(vcs, dict) and vcs.get("vcs"):
        return f"{vcs['vcs']}+{url}" + (f"@{vcs['commit_id']}" if vcs.get("commit_id") else "")
    return url or None


def fix_hint() -> str:
    return (
        "install edge-app where every user can read it, with the system Python: "
        f"sudo /usr/bin/python3 -m venv /opt/edge-app && sudo /opt/edge-app/bin/pip install {pip_source()} "
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


@dataclass(frozen=True)
class Identity:
    """Who the service runs as. uid None: a user that install has yet to create (no file is theirs)."""

    uid: int | None
    gids: frozenset[int] = frozenset()


def service_identity(user: str, groups: Iterable[str]) -> Identity:
    """The service user with its primary, existing supplementary and unit-given groups."""
    extra = set()
    for name in groups:
        try:
            extra.add(grp.getgrnam(name).gr_gid)
        except KeyError:
            continue
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        return Identity(None, frozenset(extra))
    return Identity(entry.pw_uid, frozenset({*os.getgrouplist(user, entry.pw_gid), *extra}))


def permits(st: os.stat_result, who: Identity, need: int) -> bool:
    """The classic owner/group/other check; `need` in "other" bits: 4 read, 1 search/execute."""
    if who.uid is not None and st.st_uid == who.uid:
        bits = st.st_mode >> 6
    elif st.st_gid in who.gids:
        bits = st.st_mode >> 3
    else:
        bits = st.st_mode
    return bits & need == need


def blocked(path: Path, who: Identity, stat_fn: Callable[[Path], os.stat_result] = os.stat) -> Problem | None:
    """The first reason `who` cannot reach `path` (every folder on the way searchable, the file readable)."""
    for directory in reversed(path.parents):
        try:
            st = stat_fn(directory)
        except OSError as exc:
            return Problem(path, f"{directory} is unreadable ({exc.strerror})")
        if not permits(st, who, 1):
            return Problem(path, f"{directory} is closed to it (mode {stat.S_IMODE(st.st_mode):04o})")
    try:
        st = stat_fn(path)
    except OSError as exc:
        return Problem(path, f"it is unreadable ({exc.strerror})")
    if not permits(st, who, 5 if stat.S_ISDIR(st.st_mode) else 4):
        return Problem(path, f"it is closed to it (mode {stat.S_IMODE(st.st_mode):04o})")
    return None


def in_temp(path: Path) -> Problem | None:
    if any(root in path.parents for root in TEMP_ROOTS):
        return Problem(
            path, "it is under a temporary folder, which the service does not see (PrivateTmp=) and boot wipes"
        )
    return None


def problems(paths: list[Path], who: Identity, stat_fn: Callable[[Path], os.stat_result] = os.stat) -> list[Problem]:
    found = []
    for path in paths:
        problem = in_temp(path) or blocked(path, who, stat_fn)
        if problem:
            found.append(problem)
    return found
