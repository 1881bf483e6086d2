"""The overlay drawn onto frames: the stats line, the darkened label panel that scales with the
frame, fitting long labels, and the no-signal card. Pure functions: image in, image out."""

from __future__ import annotations

import numpy as np
import pytest

from edge_app import overlay
from edge_app.frames import Label
from edge_app.overlay import AMBER, GREEN, WHITE, OverlayInfo, draw, no_signal, stats_line

LABELS = [Label(89, "macaw", 0.934), Label(90, "sulphur-crested cockatoo, Kakatoe galerita, Cacatua galerita", 0.041)]


def has_colour(image: np.ndarray, colour: tuple[int, int, int]) -> bool:
    return bool((image == colour).all(axis=2).any())


def panel_size(image: np.ndarray) -> tuple[int, int]:
    """(width, height) of the darkened panel drawn on a frame that was all 200."""
    rows, cols = np.nonzero((image == 200 >> overlay.PANEL_SHIFT).all(axis=2))
    return int(cols.max()) + 1, int(rows.max()) + 1


# -- the stats line --------------------------------------------------------------------------


def test_stats_line_has_the_rates_and_only_the_latencies_it_knows() -> None:
    assert stats_line(OverlayInfo(video_fps=29.96, inference_fps=12.04)) == "video 30.0 fps | model 12.0 fps"
    full = OverlayInfo(video_fps=30.0, inference_fps=28.5, inference_ms=4.26, age_ms=37.6)
    assert stats_line(full) == "video 30.0 fps | model 28.5 fps | 4.3 ms | age 38 ms"
    assert (
        stats_line(OverlayInfo(age_ms=0.0)) == "video 0.0 fps | model 0.0 fps | age 0 ms"
    )  # zero is known, not missing


# -- draw ------------------------------------------------------------------------------------


def test_draw_works_in_place_and_touches_only_the_top_left_panel() -> None:
    image = np.full((480, 640, 3), 200, np.uint8)
    out = draw(image, LABELS, OverlayInfo(30.0, 28.5, 4.2, 12.0))
    assert out is image and out.shape == (480, 640, 3) and out.dtype == np.uint8
    width, height = panel_size(image)
    assert 100 < width < 640 and 40 < height < 240
    assert (image[height:, :] == 200).all() and (image[:, width:] == 200).all()  # the rest of the video is untouched


def test_the_top_label_is_green_the_others_and_the_stats_white_a_note_amber() -> None:
    black = np.zeros((480, 640, 3), np.uint8)
    draw(black, LABELS, OverlayInfo())
    assert has_colour(black, GREEN) and has_colour(black, WHITE) and not has_colour(black, AMBER)
    noted = draw(np.zeros((480, 640, 3), np.uint8), LABELS, OverlayInfo(note="reconnecting"))
    assert has_colour(noted, AMBER)
    stats_only = draw(np.zeros((480, 640, 3), np.uint8), [], OverlayInfo())
    assert has_colour(stats_only, WHITE) and not has_colour(stats_only, GREEN)


def test_each_line_adds_to_the_panel() -> None:
    heights = []
    for labels, note in (([], ""), (LABELS[:1], ""), (LABELS, ""), (LABELS, "reconnecting")):
        image = np.full((480, 640, 3), 200, np.uint8)
        draw(image, labels, OverlayInfo(note=note))
        heights.append(panel_size(image)[1])
    steps = np.diff(heights)
    assert (steps > 0).all() and steps.max() - steps.min() <= 1  # one line height each


@pytest.mark.parametrize(("small", "large"), [((320, 240), (640, 480)), ((640, 480), (1920, 1080))])
def test_the_panel_scales_with_the_frame(small: tuple[int, int], large: tuple[int, int]) -> None:
    sizes = []
    for width, height in (small, large):
        image = np.full((height, width, 3), 200, np.uint8)
        draw(image, LABELS[:1], OverlayInfo(30.0, 28.5))
        sizes.append(panel_size(image))
    scale = min(large) / min(small)
    assert sizes[1][1] / sizes[0][1] == pytest.approx(scale, rel=0.15)
    assert sizes[1][0] / sizes[0][0] == pytest.approx(scale, rel=0.15)


def test_a_tiny_frame_gets_more_lines_than_fit_without_an_error() -> None:
    image = np.full((48, 64, 3), 200, np.uint8)
    draw(image, LABELS, OverlayInfo(30.0, 28.5, 4.2, 12.0, "reconnecting"))
    width, height = panel_size(image)
    assert image.shape == (48, 64, 3) and width <= 64 and height == 48  # clipped to the frame


# -- fitting long labels -----------------------------------------------------------------------


def test_a_label_that_fits_is_kept_whole_synonyms_and_all() -> None:
    m = overlay._metrics(640, 480)
    assert overlay._fit("macaw", 600, m) == "macaw"
    assert overlay._fit("hotdog, hot dog, red hot", 600, m) == "hotdog, hot dog, red hot"


def test_a_long_label_is_cut_to_fit_from_its_first_synonym() -> None:
    m = overlay._metrics(640, 480)
    text = "sulphur-crested cockatoo, Kakatoe galerita, Cacatua galerita"
    for room in (80, 150, overlay._width("sulphur-crested cockatoo", m) + 5):
        fitted = overlay._fit(text, room, m)
        assert overlay._width(fitted, m) <= room
        assert "sulphur-crested cockatoo".startswith(fitted.removesuffix("...")) and "," not in fitted


def test_a_first_synonym_that_fits_is_shown_whole() -> None:
    m = overlay._metrics(640, 480)
    room = overlay._width("sulphur-crested cockatoo", m) + 5
    assert overlay._fit("sulphur-crested cockatoo, Kakatoe galerita", room, m) == "sulphur-crested cockatoo"


def test_a_cut_label_ends_with_an_ellipsis() -> None:
    m = overlay._metrics(640, 480)
    assert overlay._fit("sulphur-crested cockatoo, Kakatoe galerita", 120, m).endswith("...")


def test_cutting_stops_at_four_characters() -> None:
    m = overlay._metrics(640, 480)
    assert overlay._fit("hippopotamus", 5, m) == "hipp..."  # nothing fits 5 px: the shortest cut, not an empty string


# -- the no-signal card ------------------------------------------------------------------------


def test_no_signal_card_is_dark_with_amber_text_centred() -> None:
    card = no_signal(640, 480)
    assert card.shape == (480, 640, 3) and card.dtype == np.uint8
    assert (card == 32).all(axis=2).mean() > 0.9  # mostly the dark background
    assert has_colour(card, AMBER) and not has_colour(card, WHITE)
    rows, cols = np.nonzero((card == AMBER).all(axis=2))
    assert abs((cols.min() + cols.max()) / 2 - 320) < 640 * 0.05  # centred across


def test_no_signal_card_shows_the_detail_in_white_below() -> None:
    card = no_signal(640, 480, "camera unplugged, retrying in 4 s")
    amber_rows = np.nonzero((card == AMBER).all(axis=2))[0]
    white_rows = np.nonzero((card == WHITE).all(axis=2))[0]
    assert len(white_rows) and white_rows.min() > amber_rows.max()


def test_no_signal_card_fits_a_long_detail_into_a_small_frame() -> None:
    card = no_signal(160, 120, "the camera at /dev/video0 stopped sending frames and is being reopened")
    assert card.shape == (120, 160, 3)
    cols = np.nonzero((card > 100).all(axis=2))[
        1
    ]  # the detail's light grey-to-white pixels (small text is all anti-aliasing)
    assert len(cols) and cols.min() > 0 and cols.max() < 159  # cut to fit, not drawn off the edge


def test_runners_up_that_score_nothing_are_not_drawn() -> None:
    """A "0.0% background" line is noise: the panel holds the same lines as without it."""
    zeros = [LABELS[0], Label(0, "background", 0.0), Label(1, "tench", 0.0)]
    heights = []
    for labels in (LABELS[:1], zeros):
        image = np.full((480, 640, 3), 200, np.uint8)
        draw(image, labels, OverlayInfo())
        heights.append(panel_size(image)[1])
    assert heights[0] == heights[1]
