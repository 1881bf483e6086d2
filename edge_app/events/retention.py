"""Which events go, oldest first: those older than `keep_days`, then the oldest until the rest fit
in `keep_mb`, and, while the disk has under 5 % free, the oldest until it would have. Pure: the
store deletes what this names, each event with its files, and nothing else."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

DAY_S = 86400.0
MIN_FREE = 0.05  # of the disk


@dataclass(frozen=True)
class Disk:
    total: int
    free: int


@dataclass(frozen=True)
class Plan:
    ids: list[int]
    freed: int
    low_disk: bool  # the disk was under MIN_FREE: worth a warning

    def __bool__(self) -> bool:
        return bool(self.ids)


def plan(usage: Sequence[tuple[int, float, int]], now: float, keep_days: float, keep_bytes: int, disk: Disk) -> Plan:
    """`usage` is (id, ts, bytes) oldest first (by id: the order they were made in)."""
    cutoff = now - keep_days * DAY_S
    total = sum(size for _, _, size in usage)
    wanted_free = int(disk.total * MIN_FREE)
    low_disk = disk.total > 0 and disk.free < wanted_free
    free = disk.free
    ids: list[int] = []
    freed = 0
    for event_id, ts, size in usage:
        too_old = ts < cutoff
        too_big = total - freed > keep_bytes
        disk_short = low_disk and free < wanted_free
        if not (too_old or too_big or disk_short):
            break
        ids.append(event_id)
        freed += size
        free += size
    return Plan(ids, freed, low_disk)
