"""The `[events]` section, typed and checked once: what a region's change keeps (snapshot, clip),
how long it is kept, and which results go to the review queue.

    [events]
    clips = true          # a clip of pre_s before and post_s after each change
    pre_s = 5
    post_s = 5
    keep_days = 14        # older events go, with their files
    keep_mb = 1024        # and the oldest go first beyond this
    review_below = 0.9    # results scoring below this are worth a look
    watch = ["bird"]      # whole-frame labels whose start and end are events

    [events.regions.door]  # per region: clips, review_below
    clips = false
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from edge_app.errors import EdgeAppError

MAX_CLIP_S = 60.0  # each side of a change: the ring buffer holds pre_s, a clip lasts pre_s + post_s
PER_REGION = ("clips", "review_below")


@dataclass(frozen=True)
class RegionEvents:
    """What one region changes of the section's defaults (None: the default)."""

    clips: bool | None = None
    review_below: float | None = None


@dataclass(frozen=True)
class EventsConfig:
    enabled: bool = True
    clips: bool = False
    pre_s: float = 5.0
    post_s: float = 5.0
    keep_days: float = 14.0
    keep_mb: float = 1024.0
    review_below: float = 0.9
    watch: tuple[str, ...] = ()
    regions: Mapping[str, RegionEvents] = field(default_factory=dict)

    def clips_for(self, region: str) -> bool:
        own = self.regions.get(region, RegionEvents()).clips
        return self.clips if own is None else own

    def review_below_for(self, region: str) -> float:
        own = self.regions.get(region, RegionEvents()).review_below
        return self.review_below if own is None else own

    def any_clips(self, regions: list[str] | tuple[str, ...]) -> bool:
        """Whether the clip ring buffer is needed at all (it costs an encoder)."""
        return any(self.clips_for(name) for name in regions)

    @property
    def keep_bytes(self) -> int:
        return int(self.keep_mb * 1024 * 1024)

    @classmethod
    def from_table(cls, table: Mapping[str, Any]) -> EventsConfig:
        """The section as read from TOML; a wrong key or value is one EdgeAppError naming it."""
        known = {"enabled", "clips", "pre_s", "post_s", "keep_days", "keep_mb", "review_below", "watch", "regions"}
        _no_unknown(table, known, "[events]")
        base = cls()
        regions: dict[str, RegionEvents] = {}
        raw_regions = table.get("regions", {})
        if not isinstance(raw_regions, Mapping):
            raise EdgeAppError("[events] regions must be a table of region names", "e.g. [events.regions.door]")
        for name, own in raw_regions.items():
            where = f"[events.regions.{name}]"
            if not isinstance(own, Mapping):
                raise EdgeAppError(f"{where} must be a table", f"with {' and/or '.join(PER_REGION)}")
            _no_unknown(own, set(PER_REGION), where)
            regions[str(name)] = RegionEvents(
                clips=_flag(own, "clips", None, where),
                review_below=_fraction(own, "review_below", None, where),
            )
        return cls(
            enabled=bool(_flag(table, "enabled", base.enabled, "[events]")),
            clips=bool(_flag(table, "clips", base.clips, "[events]")),
            pre_s=_seconds(table, "pre_s", base.pre_s),
            post_s=_seconds(table, "post_s", base.post_s),
            keep_days=_positive(table, "keep_days", base.keep_days),
            keep_mb=_positive(table, "keep_mb", base.keep_mb),
            review_below=_fraction(table, "review_below", base.review_below, "[events]") or 0.0,
            watch=_labels(table.get("watch", [])),
            regions=regions,
        )


def _no_unknown(table: Mapping[str, Any], known: set[str], where: str) -> None:
    unknown = sorted(set(table) - known)
    if unknown:
        raise EdgeAppError(f"{where} has no setting {unknown[0]!r}", f"known: {', '.join(sorted(known))}")


def _flag(table: Mapping[str, Any], key: str, default: bool | None, where: str) -> bool | None:
    value = table.get(key, default)
    if value is not None and not isinstance(value, bool):
        raise EdgeAppError(f"{where} {key} must be true or false, not {value!r}", f"e.g. {key} = true")
    return value


def _number(table: Mapping[str, Any], key: str, default: float | None, where: str) -> float | None:
    value = table.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise EdgeAppError(f"{where} {key} must be a number, not {value!r}", f"e.g. {key} = {default or 1}")
    return float(value)


def _seconds(table: Mapping[str, Any], key: str, default: float) -> float:
    value = _number(table, key, default, "[events]")
    assert value is not None
    if not 0 <= value <= MAX_CLIP_S:
        raise EdgeAppError(f"[events] {key} = {value:g} is outside 0 to {MAX_CLIP_S:g} seconds", f"e.g. {key} = 5")
    return value


def _positive(table: Mapping[str, Any], key: str, default: float) -> float:
    value = _number(table, key, default, "[events]")
    assert value is not None
    if value <= 0:
        raise EdgeAppError(f"[events] {key} must be more than 0, not {value:g}", f"e.g. {key} = {default:g}")
    return value


def _fraction(table: Mapping[str, Any], key: str, default: float | None, where: str) -> float | None:
    value = _number(table, key, default, where)
    if value is not None and not 0 <= value <= 1:
        raise EdgeAppError(f"{where} {key} = {value:g} is outside 0 to 1", f"e.g. {key} = 0.9")
    return value


def _labels(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        raise EdgeAppError("[events] watch must be a list of label names", 'e.g. watch = ["bird", "cat"]')
    return tuple(dict.fromkeys(item.strip() for item in value))
