"""The live view's regions in headless Chromium against a real live view server: boxes drawn
over the video with name, state and score; a region drawn, moved and resized by dragging,
edited and deleted; config-file regions shown read-only and said so; and the Teach panel's
requests naming the region picked.

Skipped where Chromium or chromedriver is missing, unless EDGE_APP_REQUIRE_TOOLS=1 (CI).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from edge_app.address import parse_address
from edge_app.bus import Classified, StateChanged
from edge_app.endpoints import Reply, Request, Route
from edge_app.frames import Frame, Label, Result
from edge_app.regions.board import RegionBoard
from edge_app.regions.book import RegionBook
from edge_app.regions.http import routes
from edge_app.regions.spec import Box, RegionSpec
from edge_app.web.sink import HttpSink
from tests.helpers.live_view import FakeStatus, Feeder, chromium  # noqa: F401 (fixture)
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.slow  # a real browser
DOOR = RegionSpec("door", Box(0.1, 0.2, 0.4, 0.8), on_motion=True)


@dataclass
class Live:
    url: str
    book: RegionBook
    board: RegionBoard
    teach_asked: list[str]


@pytest.fixture
def live(tmp_path: Any) -> Iterator[Live]:
    book = RegionBook("cam", (DOOR,), tmp_path)
    board = RegionBoard()
    board.set_regions("cam", book.specs)
    book.on_change(lambda specs: board.set_regions("cam", specs))
    asked: list[str] = []

    def teach(request: Request) -> Reply:
        region = request.param("region") or "the whole frame"
        asked.append(region)
        return Reply.json({"enabled": False, "reason": f"teaching {region} is off here", "classes": []})

    sink = HttpSink(
        parse_address("0"), FakeStatus(), routes=(*routes({"cam": book}, board), Route("GET", "/api/teach", teach))
    )
    sink.start(threading.Event())
    feeder = Feeder(sink.frame, fps=15.0)
    feeder.start()
    yield Live(sink.url, book, board, asked)
    feeder.close()
    sink.close()


def boxes(driver: Any) -> dict[str, dict[str, Any]]:
    return driver.execute_script(
        """const layer = document.getElementById("regions-layer").getBoundingClientRect(); const out = {};
        for (const el of document.querySelectorAll("#regions-layer .region:not(.ghost)")) {
          const r = el.getBoundingClientRect();
          out[el.dataset.name] = {text: el.querySelector(".tab").textContent, cls: el.className,
            box: [(r.left - layer.left) / layer.width, (r.top - layer.top) / layer.height,
                  (r.right - layer.left) / layer.width, (r.bottom - layer.top) / layer.height]};
        }
        return out;"""
    )


def drag(driver: Any, start: tuple[float, float], end: tuple[float, float]) -> None:
    """A mouse drag over the video, in fractions of it."""
    from selenium.webdriver.common.action_chains import ActionChains

    layer = driver.find_element("id", "regions-layer")
    size = layer.size
    sx, sy = (start[0] - 0.5) * size["width"], (start[1] - 0.5) * size["height"]
    ex, ey = (end[0] - 0.5) * size["width"], (end[1] - 0.5) * size["height"]
    chain = ActionChains(driver, duration=50)
    chain.move_to_element_with_offset(layer, round(sx), round(sy)).click_and_hold()
    for step in range(1, 6):
        chain.move_to_element_with_offset(layer, round(sx + (ex - sx) * step / 5), round(sy + (ey - sy) * step / 5))
    chain.release().perform()


def close_to(a: list[float], b: list[float], tolerance: float = 0.02) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b))


def test_draw_move_resize_edit_and_delete_a_region(chromium: Any, live: Live) -> None:
    chromium.get(live.url)
    wait_until(lambda: "door" in boxes(chromium), message="the config region never showed")
    shown = boxes(chromium)["door"]
    assert shown["text"] == "door: ..." and close_to(shown["box"], [0.1, 0.2, 0.4, 0.8])
    assert chromium.find_element("id", "regions-config").is_displayed()  # the page says config ones are the file's

    # its state and score, as the board has them
    frame = Frame(np.zeros((2, 2, 3), np.uint8), 3)
    live.board.handle(StateChanged("cam", "door", "open", None, 0.93, frame, DOOR.box, 1.0))
    result = Result(3, 1.0, 1.0, (Label(0, "open", 0.93),), 3.0)
    live.board.handle(Classified("cam", "door", frame, result, DOOR.box, "open", False))
    wait_until(lambda: boxes(chromium)["door"]["text"] == "door: open 0.93", message="the state never showed")
    assert "settled" in boxes(chromium)["door"]["cls"]

    # a config region cannot be dragged
    drag(chromium, (0.25, 0.5), (0.6, 0.5))
    assert live.book.get("door") == DOOR

    chromium.find_element("id", "regions-name").send_keys("bins")
    chromium.find_element("id", "regions-draw").click()
    drag(chromium, (0.55, 0.5), (0.85, 0.9))
    wait_until(lambda: live.book.get("bins") is not None, message="drawing never made the region")
    made = live.book.get("bins")
    assert made is not None and made.origin == "page" and close_to(made.box.as_list(), [0.55, 0.5, 0.85, 0.9])
    wait_until(lambda: "bins" in boxes(chromium))

    def bins() -> RegionSpec:
        spec = live.book.get("bins")
        assert spec is not None, "the drawn region is gone"
        return spec

    drag(chromium, (0.7, 0.7), (0.6, 0.6))  # move by its body
    wait_until(lambda: close_to(bins().box.as_list(), [0.45, 0.4, 0.75, 0.8]))
    drag(chromium, (0.75, 0.8), (0.95, 0.95))  # resize by its corner
    wait_until(lambda: close_to(bins().box.as_list(), [0.45, 0.4, 0.95, 0.95]))
    wait_until(lambda: close_to(boxes(chromium)["bins"]["box"], [0.45, 0.4, 0.95, 0.95]))

    # picking it picks what is taught
    wait_until(lambda: "bins" in live.teach_asked, message="the Teach panel never asked for the region")
    wait_until(lambda: "teaching bins is off here" in chromium.find_element("id", "teach-off").text)
    assert chromium.find_element("id", "teach-region").get_attribute("value") == "bins"

    # its gate and confirmation, then delete it
    every = chromium.find_element("id", "regions-every")
    every.clear()
    every.send_keys("30")
    chromium.find_element("id", "regions-save").click()
    wait_until(lambda: bins().every == 30.0)
    chromium.find_element("id", "regions-delete").click()
    chromium.switch_to.alert.accept()
    wait_until(lambda: live.book.get("bins") is None, message="delete never reached the server")
    wait_until(lambda: "bins" not in boxes(chromium))
    assert "kept" in chromium.find_element("id", "regions-message").text


def test_a_bad_region_is_refused_with_the_servers_words(chromium: Any, live: Live) -> None:
    chromium.get(live.url)
    wait_until(lambda: "door" in boxes(chromium))
    chromium.find_element("id", "regions-name").send_keys("door")  # the config file's: refused
    chromium.find_element("id", "regions-draw").click()
    drag(chromium, (0.6, 0.6), (0.8, 0.8))
    wait_until(lambda: "config file" in chromium.find_element("id", "regions-message").text)
    assert live.book.get("door") == DOOR
