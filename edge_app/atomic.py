"""Files that appear whole or not at all.

Everything is written to a hidden temporary name in the target's folder (same file system), synced,
then renamed into place with os.replace, which is atomic on POSIX. A crash, a full disk or Ctrl-C
midway leaves the old file (or none), never half of a new one; the temporary file is removed on
any failure that Python sees.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any


def temporary_name(path: Path) -> Path:
    """Beside `path`, hidden, with its suffix kept (for writers that pick a format by suffix), and
    unique to this process and thread (two threads may write the same target)."""
    return path.with_name(f".{path.stem}.{os.getpid()}-{threading.get_ident()}.tmp{path.suffix}")


_TEMPORARY = re.compile(r"^\..+\.(\d+)-\d+\.tmp(\.[^.]*)?$")


def is_stale_temporary(path: Path) -> bool:
    """A temporary file of `temporary_name` whose writer is gone (killed before its rename): no
    process of its pid runs any more, so nobody will finish or remove it."""
    found = _TEMPORARY.match(path.name)
    if found is None:
        return False
    pid = int(found.group(1))
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # it runs, as another user
        return False
    return False


def _sync(path: Path) -> None:
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


@contextlib.contextmanager
def replacing(paths: Sequence[Path], durable: bool = True) -> Iterator[list[Path]]:
    """Temporary paths for `paths`, for the caller to write; once the block ends without an error,
    each is synced (unless not `durable`: caches) and renamed into place, one after the other. On an
    error or an interrupt every temporary file is removed and no target is touched."""
    temps = [temporary_name(Path(path)) for path in paths]
    try:
        yield temps
        for temp in temps:
            if durable:
                _sync(temp)
        for temp, path in zip(temps, paths):
            os.replace(temp, path)
    finally:
        for temp in temps:
            temp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_open(path: Path, mode: str = "w", durable: bool = True, **options: Any) -> Iterator[IO[Any]]:
    """open() for writing, with the file appearing at `path` only once it is complete."""
    with replacing([Path(path)], durable) as (temp,):
        with open(temp, mode, **options) as f:
            yield f


def atomic_write_bytes(path: Path, data: bytes, durable: bool = True) -> None:
    with atomic_open(path, "wb", durable) as f:
        f.write(data)


def atomic_write_text(path: Path, text: str, encoding: str = "utf-8") -> None:
    with atomic_open(path, "w", encoding=encoding, newline="") as f:
        f.write(text)
