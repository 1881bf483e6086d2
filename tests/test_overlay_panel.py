"""The overlay's label panel: readable over anything, and the synthetic frame number stays out of it."""

from __future__ import annotations

import numpy as np

from edge_app import overlay
from edge_app.frames import Label
from edge_app.sources.synthetic import SyntheticSource, code_cell

LABELS = [Label(89, "macaw", 0.93), Label(90, "sulphur-crested cockatoo", 0.04)]
INFO = overlay.OverlayInfo(30.0, 28.5, 4.2, 12.0)


def _drawn_on_white(width: int = 640, height: int = 480) -> tuple[np.ndarray, int, int]:
    """The overlay on a white frame, and where its panel ends (x, y), found along row and column 5 (padding)."""
    drawn = overlay.draw(np.full((height, width, 3), 255, np.uint8), LABELS, INFO)
    untouched = (drawn == 255).all(axis=2)
    return drawn, int(np.argmax(untouched[5])), int(np.argmax(untouched[:, 5]))


def test_the_panel_leaves_nothing_bright_underneath() -> None:
    drawn, x1, y1 = _drawn_on_white()
    assert 200 < x1 < 640 and 50 < y1 < 200
    assert np.median(drawn[:y1, :x1]) <= 64, "white video under the labels is dimmed to a quarter"


def test_the_synthetic_frame_number_is_not_under_the_labels() -> None:
    source = SyntheticSource((640, 480))
    source.open()
    _, x1, y1 = _drawn_on_white()
    few, many = source.frame(5), source.frame(5 + 64 * 1000)  # the bar is in the same place: only the number differs
    differ = (few != many).any(axis=2)
    differ[: code_cell(640)] = False  # the code strip along the top edge carries the number by design
    ys, xs = np.nonzero(differ)
    assert len(ys) and ys.min() > 400 and xs.min() > 500, "the number is drawn bottom-right"
    assert not differ[:y1, :x1].any()
