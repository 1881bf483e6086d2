"""What a region is, as configured: a named box in fractions of the frame, its model, gate and
confirmation rule. Pure parsing and validation, shared by the config file, `--region`, and the
page's `PUT /api/regions/NAME`, so all three refuse the same mistakes with the same words."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from edge_app.errors import EdgeAppError

WHOLE_FRAME = "frame"  # the name of the default region: the whole view
DEFAULT_CAMERA = "default"  # the one camera of a config without [cameras.NAME] tables
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
DEFAULT_THRESHOLD = 0.8
DEFAULT_CONFIRM = 3
MAX_CONFIRM = 100


@dataclass(frozen=True)
class Box:
    """A rectangle in fractions of the frame: 0 <= x0 < x1 <= 1, 0 <= y0 < y1 <= 1."""

    x0: float
    y0: float
    x1: float
    y1: float

    def pixels(self, width: int, height: int) -> tuple[int, int, int, int]:
        """The box in pixels of a width x height image, at least one pixel each way."""
        left, top = int(self.x0 * width), int(self.y0 * height)
        right = max(left + 1, min(width, int(math.ceil(self.x1 * width))))
        bottom = max(top + 1, min(height, int(math.ceil(self.y1 * height))))
        return left, top, right, bottom

    def as_list(self) -> list[float]:
        return [self.x0, self.y0, self.x1, self.y1]

    @property
    def whole(self) -> bool:
        return self.as_list() == [0.0, 0.0, 1.0, 1.0]


FULL = Box(0.0, 0.0, 1.0, 1.0)


@dataclass(frozen=True)
class RegionSpec:
    """One region. `model` is None for the base (or taught) model, else a .tflite path.
    `every` is seconds between runs (0: no interval); with `on_motion` off too, every frame."""

    name: str
    box: Box = FULL
    model: str | None = None
    on_motion: bool = False
    every: float = 0.0
    threshold: float = DEFAULT_THRESHOLD
    confirm: int = DEFAULT_CONFIRM
    origin: str = "config"  # "config" (the file or flags: read-only in the page) or "page" (kept in the state dir)

    @property
    def every_frame(self) -> bool:
        return self.every == 0 and not self.on_motion

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "box": self.box.as_list(),
            "model": self.model,
            "on_motion": self.on_motion,
            "every": self.every,
            "threshold": self.threshold,
            "confirm": self.confirm,
            "origin": self.origin,
        }


def check_name(name: object) -> str:
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise EdgeAppError(
            f"region name {name!r} is not usable",
            "use 1 to 40 lower-case letters, digits, '-' or '_', starting with a letter or digit",
        )
    return name


def parse_box(value: object, where: str = "box") -> Box:
    """A box from `[x0, y0, x1, y1]` or "x0,y0,x1,y1", refusing what cannot be a region."""
    if isinstance(value, str):
        parts: list[object] = [p.strip() for p in value.split(",")]
    elif isinstance(value, (list, tuple)):
        parts = list(value)
    else:
        raise EdgeAppError(f"{where} must be 4 numbers x0,y0,x1,y1, not {value!r}")
    if len(parts) != 4:
        raise EdgeAppError(f"{where} needs 4 numbers x0,y0,x1,y1 (fractions of the frame), got {len(parts)}")
    numbers = [_fraction(p, where) for p in parts]
    x0, y0, x1, y1 = numbers
    if x1 <= x0 or y1 <= y0:
        shape = "empty" if (x1 == x0 or y1 == y0) else "reversed"
        raise EdgeAppError(
            f"{where} {numbers} is {shape}", "x0 < x1 and y0 < y1: left, top, right, bottom as fractions of the frame"
        )
    return Box(x0, y0, x1, y1)


def _fraction(value: object, where: str) -> float:
    if isinstance(value, bool):
        raise EdgeAppError(f"{where}: {value!r} is not a number")
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise EdgeAppError(f"{where}: {value!r} is not a number") from None
    if math.isnan(number) or not 0.0 <= number <= 1.0:
        raise EdgeAppError(f"{where}: {value!r} is outside 0 to 1", "a box is in fractions of the frame, 0 to 1")
    return number


def parse_flag(text: str) -> RegionSpec:
    """`--region NAME=x0,y0,x1,y1`."""
    name, sep, box = text.partition("=")
    if not sep:
        raise EdgeAppError(f"--region {text!r} needs NAME=x0,y0,x1,y1", "e.g. --region door=0.1,0.2,0.4,0.9")
    return RegionSpec(check_name(name.strip()), parse_box(box, f"--region {name.strip()}"))


KEYS = ("box", "model", "on_motion", "every", "threshold", "confirm")


def parse_table(name: str, table: Mapping[str, object], where: str = "regions", origin: str = "config") -> RegionSpec:
    """One `[regions.NAME]` table (or a page's JSON body), every key checked."""
    label = f"[{where}.{name}]"
    check_name(name)
    unknown = sorted(set(table) - set(KEYS) - {"name", "origin"})
    if unknown:
        raise EdgeAppError(f"{label} has unknown key {unknown[0]!r}", f"a region takes {', '.join(KEYS)}")
    if "box" not in table:
        raise EdgeAppError(f"{label} needs a box", "box = [x0, y0, x1, y1], fractions of the frame")
    spec = RegionSpec(name, parse_box(table["box"], f"{label} box"), origin=origin)
    model = table.get("model")
    if model is not None and (not isinstance(model, str) or not model.strip()):
        raise EdgeAppError(f"{label} model must be a path to a .tflite file, not {model!r}")
    on_motion = table.get("on_motion", spec.on_motion)
    if not isinstance(on_motion, bool):
        raise EdgeAppError(f"{label} on_motion must be true or false, not {on_motion!r}")
    every = _number(table.get("every", spec.every), f"{label} every", 0.0, 86400.0)
    threshold = _number(table.get("threshold", spec.threshold), f"{label} threshold", 0.0, 1.0)
    confirm = table.get("confirm", spec.confirm)
    if isinstance(confirm, bool) or not isinstance(confirm, int) or not 1 <= confirm <= MAX_CONFIRM:
        raise EdgeAppError(f"{label} confirm must be a whole number from 1 to {MAX_CONFIRM}, not {confirm!r}")
    return replace(spec, model=model, on_motion=on_motion, every=every, threshold=threshold, confirm=confirm)


def _number(value: object, where: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(float(value)):
        raise EdgeAppError(f"{where} must be a number, not {value!r}")
    if not low <= float(value) <= high:
        raise EdgeAppError(f"{where} must be from {low:g} to {high:g}, not {value!r}")
    return float(value)


def check_unique(specs: Iterable[RegionSpec]) -> tuple[RegionSpec, ...]:
    """Regions of one camera, refusing a name used twice (and the reserved whole-frame name)."""
    seen: set[str] = set()
    out = []
    for spec in specs:
        if spec.name == WHOLE_FRAME:
            raise EdgeAppError(
                f"region name {WHOLE_FRAME!r} is taken by the whole view", "give the region another name"
            )
        if spec.name in seen:
            raise EdgeAppError(f"region {spec.name!r} is defined twice", "each region of a camera needs its own name")
        seen.add(spec.name)
        out.append(spec)
    return tuple(out)
