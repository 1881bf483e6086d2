"""The disk saying no (full, or gone): snapshots and clips stop with one line while the run and the
live view go on, and start again once retention has made room."""

from __future__ import annotations

import errno
import logging
import shutil
import threading
from pathlib import Path

from edge_app.events.retention import MIN_FREE, Disk

log = logging.getLogger("edge_app.events")
REFUSALS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO)


def disk_of(path: Path) -> Disk:
    try:
        usage = shutil.disk_usage(path)
    except OSError:
        return Disk(0, 0)
    return Disk(usage.total, usage.free)


class DiskGuard:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._stopped = False
        self._lock = threading.Lock()

    @property
    def ok(self) -> bool:
        return not self._stopped

    def refused(self, what: str, exc: OSError) -> bool:
        """True when `exc` is the disk refusing (then files stop, with one line the first time)."""
        if exc.errno not in REFUSALS:
            return False
        with self._lock:
            first, self._stopped = not self._stopped, True
        if first:
            log.error(
                "events: cannot write %s in %s (%s); snapshots and clips stop until there is room, the run goes on",
                what,
                self.path,
                exc.strerror or exc,
            )
        return True

    def recheck(self) -> None:
        """After retention: files start again once the disk has room."""
        if self._stopped:
            disk = disk_of(self.path)
            if disk.total and disk.free >= disk.total * MIN_FREE:
                with self._lock:
                    self._stopped = False
                log.info("events: the disk has room again; snapshots and clips resume")
