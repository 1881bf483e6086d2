"""Small, printable system changes. A plan is a list of steps; --dry-run prints the same
list a real run prints and applies, so what you preview is what would happen."""

from __future__ import annotations

import grp
import os
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TextIO

from edge_app.errors import EdgeAppError

CommandRunner = Callable[
    [Sequence[str], Sequence[int]], None
]  # run argv; raise EdgeAppError unless the exit code is allowed


class Step(Protocol):
    def describe(self) -> str: ...

    def apply(self, run: CommandRunner) -> None: ...


@dataclass(frozen=True)
class Command:
    argv: tuple[str, ...]
    ok_codes: tuple[int, ...] = (0,)

    def describe(self) -> str:
        return shlex.join(self.argv)

    def apply(self, run: CommandRunner) -> None:
        run(self.argv, self.ok_codes)


@dataclass(frozen=True)
class WriteFile:
    """Written atomically (temp file + rename): a crash never leaves half a unit or config."""

    path: Path
    text: str
    mode: int = 0o644
    group: str | None = None  # e.g. the service's group, for a 0640 config it must read

    def describe(self) -> str:
        owner = f", group {self.group}" if self.group else ""
        return f"write {self.path} (mode {self.mode:04o}{owner})"

    def apply(self, run: CommandRunner) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(self.text)
            os.chmod(tmp, self.mode)
            if self.group:
                os.chown(tmp, -1, int(self.group) if self.group.isdigit() else grp.getgrnam(self.group).gr_gid)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


@dataclass(frozen=True)
class Remove:
    path: Path

    def describe(self) -> str:
        return f"remove {self.path}"

    def apply(self, run: CommandRunner) -> None:
        if self.path.is_dir() and not self.path.is_symlink():
            shutil.rmtree(self.path)
        else:
            self.path.unlink(missing_ok=True)


@dataclass(frozen=True)
class Skip:
    """A step that is not needed here, listed so the plan explains itself."""

    reason: str

    def describe(self) -> str:
        return f"skip: {self.reason}"

    def apply(self, run: CommandRunner) -> None:
        pass


def run_command(argv: Sequence[str], ok_codes: Sequence[int] = (0,)) -> None:
    """Run a system tool; its failure becomes one line with the tool's own last words."""
    try:
        done = subprocess.run(list(argv), capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise EdgeAppError(f"{argv[0]} not found", "this needs a Linux system managed by systemd") from None
    if done.returncode not in ok_codes:
        said = (done.stderr.strip() or done.stdout.strip()).splitlines()
        detail = f": {said[-1]}" if said else ""
        raise EdgeAppError(
            f"`{shlex.join(argv)}` failed with exit code {done.returncode}{detail}",
            "fix that, then run the command again",
        )


def execute(steps: Sequence[Step], out: TextIO, dry_run: bool, run: CommandRunner = run_command) -> None:
    """Print each step as a '#' comment line (so dry-run output stays a valid unit file), then apply it."""
    for number, step in enumerate(steps, 1):
        print(f"# step {number}/{len(steps)}: {step.describe()}", file=out, flush=True)
        if not dry_run:
            step.apply(run)
