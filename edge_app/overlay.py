"""Drawing labels and live stats onto frames. Pure: image in, image out.

Sizes scale with the frame, so the text is as readable on 320x240 as on 1920x1080.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from edge_app.frames import Label, worth_showing
from edge_app.regions.spec import Box

FONT = cv2.FONT_HERSHEY_SIMPLEX
WHITE = (255, 255, 255)
GREEN = (80, 220, 80)
AMBER = (0, 190, 255)
GREY = (170, 170, 170)
PANEL_SHIFT = 2  # the label panel keeps a quarter of the video's brightness


@dataclass(frozen=True)
class OverlayInfo:
    video_fps: float = 0.0
    inference_fps: float = 0.0
    inference_ms: float | None = None
    age_ms: float | None = None
    note: str = ""  # e.g. "reconnecting", shown in amber


@dataclass(frozen=True)
class _Metrics:
    scale: float
    thickness: int
    line: int
    pad: int


def _metrics(width: int, height: int) -> _Metrics:
    unit = max(0.35, min(width, height) / 480.0)
    return _Metrics(0.6 * unit, max(1, round(1.4 * unit)), max(12, round(26 * unit)), max(4, round(8 * unit)))


@functools.lru_cache(maxsize=512)
def _width(text: str, m: _Metrics) -> int:
    return cv2.getTextSize(text, FONT, m.scale, m.thickness)[0][0]


@functools.lru_cache(maxsize=512)
def _fit(text: str, max_width: int, m: _Metrics) -> str:
    """Shorten to the first synonym ("hotdog, hot dog, red hot" -> "hotdog"), then cut, to fit.
    Cached: a label is drawn on every frame until the next result."""
    if _width(text, m) <= max_width:
        return text
    text = text.split(",")[0].strip()
    if _width(text, m) <= max_width:
        return text
    while len(text) > 4 and _width(text + "...", m) > max_width:
        text = text[:-1]
    return text + "..."


def stats_line(info: OverlayInfo) -> str:
    parts = [f"video {info.video_fps:.1f} fps", f"model {info.inference_fps:.1f} fps"]
    if info.inference_ms is not None:
        parts.append(f"{info.inference_ms:.1f} ms")
    if info.age_ms is not None:
        parts.append(f"age {info.age_ms:.0f} ms")
    return " | ".join(parts)


def draw(image: np.ndarray, labels: Sequence[Label], info: OverlayInfo) -> np.ndarray:
    """Draw onto `image` (BGR, modified in place and returned): a dark panel, top-left, that
    keeps the video faintly visible but nothing bright enough to read through the labels."""
    h, w = image.shape[:2]
    m = _metrics(w, h)
    max_text = w - 4 * m.pad
    lines = [
        (f"{label.score * 100:4.1f}%  {label.label}", GREEN if i == 0 else WHITE)
        for i, label in enumerate(worth_showing(labels))
    ]
    lines.append((stats_line(info), WHITE))
    if info.note:
        lines.append((info.note, AMBER))
    lines = [(_fit(text, max_text, m), colour) for text, colour in lines]
    width = max(_width(text, m) for text, _ in lines)
    x1, y1 = min(w, width + 3 * m.pad), min(h, len(lines) * m.line + 2 * m.pad)
    panel = image[:y1, :x1]
    np.right_shift(panel, PANEL_SHIFT, out=panel)  # cheap; white underneath becomes 63
    for i, (text, colour) in enumerate(lines):
        y = m.pad + (i + 1) * m.line - m.line // 4
        cv2.putText(image, text, (m.pad + m.pad // 2, y), FONT, m.scale, colour, m.thickness, cv2.LINE_AA)
    return image


@dataclass(frozen=True)
class RegionMark:
    """A region as drawn: its box, name, verified state (None: none yet) and newest score;
    `pending` while a different label is being confirmed."""

    box: Box
    name: str
    state: str | None = None
    score: float | None = None
    pending: bool = False

    @property
    def text(self) -> str:
        score = f" {self.score:.2f}" if self.score is not None else ""
        return f"{self.name}: {self.state or '...'}{score}{' ?' if self.pending else ''}"


def draw_regions(image: np.ndarray, marks: Sequence[RegionMark]) -> np.ndarray:
    """Each region's box with its name, state and score on a dark tab above it (inside the box
    when it touches the top): green when settled, amber while a change waits, grey with no state."""
    h, w = image.shape[:2]
    m = _metrics(w, h)
    for mark in marks:
        colour = AMBER if mark.pending else GREEN if mark.state is not None else GREY
        left, top, right, bottom = mark.box.pixels(w, h)
        cv2.rectangle(image, (left, top), (right - 1, bottom - 1), colour, m.thickness, cv2.LINE_8)
        text = _fit(mark.text, max(4 * m.pad, w - left - 2 * m.pad), m)
        tab_w, tab_h = _width(text, m) + 2 * m.pad, m.line
        y0 = top - tab_h if top >= tab_h else top
        x1, y1 = min(w, left + tab_w), min(h, y0 + tab_h)
        tab = image[y0:y1, left:x1]
        np.right_shift(tab, PANEL_SHIFT, out=tab)
        cv2.putText(image, text, (left + m.pad, y1 - m.line // 4 - 1), FONT, m.scale, colour, m.thickness, cv2.LINE_AA)
    return image


def no_signal(width: int, height: int, detail: str = "") -> np.ndarray:
    """The card shown while the source is down, so a viewer knows the app itself is alive."""
    image = np.full((height, width, 3), 32, np.uint8)
    m = _metrics(width, height)
    for text, scale, dy in (("NO SIGNAL", 2.0, -m.line), (detail, 1.0, m.line)):
        if not text:
            continue
        text = _fit(text, width - 4 * m.pad, _Metrics(m.scale * scale, m.thickness, m.line, m.pad))
        size = cv2.getTextSize(text, FONT, m.scale * scale, m.thickness)[0]
        origin = ((width - size[0]) // 2, (height + size[1]) // 2 + dy)
        cv2.putText(image, text, origin, FONT, m.scale * scale, AMBER if scale > 1 else WHITE, m.thickness, cv2.LINE_AA)
    return image
