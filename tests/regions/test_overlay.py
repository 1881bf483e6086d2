"""Region boxes on frames: where they lie, their colour by state, their tab with name, state and
score; drawn by the annotator that feeds the live view and recordings."""

from __future__ import annotations

import numpy as np

from edge_app.frames import Frame
from edge_app.overlay import AMBER, GREEN, GREY, PANEL_SHIFT, RegionMark, draw_regions
from edge_app.pipeline.display import Annotator
from edge_app.regions.spec import Box
from tests.helpers.pipeline_fakes import fake_state

BOX = Box(0.25, 0.5, 0.75, 0.9)


def coloured(image: np.ndarray, colour: tuple[int, int, int]) -> np.ndarray:
    return (image == colour).all(axis=2)


def test_the_box_is_drawn_where_it_is_in_its_state_colour() -> None:
    for mark, colour in (
        (RegionMark(BOX, "door", "open", 0.97), GREEN),
        (RegionMark(BOX, "door", "open", 0.6, pending=True), AMBER),
        (RegionMark(BOX, "door"), GREY),
    ):
        image = draw_regions(np.full((480, 640, 3), 200, np.uint8), [mark])
        rows, cols = np.nonzero(coloured(image, colour))
        assert cols.min() == 160 and cols.max() == 479 and rows.max() == 431  # the box's edges
        assert rows.min() < 240  # the tab above the box carries the text
        assert not coloured(image[:200], colour).any() and not coloured(image[:, :150], colour).any()
        tab = coloured(image, (200 >> PANEL_SHIFT,) * 3)
        assert tab[210:240, 160:200].any() and not tab[250:].any()


def test_text_says_name_state_score_and_pending() -> None:
    assert RegionMark(BOX, "door", "open", 0.971).text == "door: open 0.97"
    assert RegionMark(BOX, "door", "open", 0.4, True).text == "door: open 0.40 ?"
    assert RegionMark(BOX, "bins").text == "bins: ..."


def test_a_box_at_the_top_edge_keeps_its_tab_inside_the_frame() -> None:
    image = draw_regions(np.full((240, 320, 3), 200, np.uint8), [RegionMark(Box(0, 0, 1, 1), "all", "x", 1.0)])
    assert coloured(image, (200 >> PANEL_SHIFT,) * 3)[:20, :40].any()


def test_the_annotator_draws_the_regions_it_is_given() -> None:
    state = fake_state()
    frame = Frame(np.full((240, 320, 3), 200, np.uint8), 1)
    plain = Annotator(state, True).render(frame, None, 0.0)
    drawn = Annotator(state, True, lambda: [RegionMark(BOX, "door", "open", 0.9)]).render(frame, None, 0.0)
    assert not coloured(plain, GREEN)[100:].any() and coloured(drawn, GREEN)[100:].any()
    assert (frame.image == 200).all()  # the source frame itself is never drawn on
