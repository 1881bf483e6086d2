"""The events page in headless Chromium, served by the live view over a keeper fed on a Bus: the
timeline newest first with thumbnails and the unreviewed count, keyboard navigation (j, r), an
event's snapshot, "this was wrong: it is X"; the review queue's click, shift-click and "all of a
kind" selection, "these are X" and "discard", each reaching the teacher or the store.

Skipped where Chromium, chromedriver or selenium is missing, unless EDGE_APP_REQUIRE_TOOLS=1 (CI).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from edge_app.address import parse_address
from edge_app.bus import Bus
from edge_app.events.http import routes
from edge_app.events.keeper import EventKeeper
from edge_app.events.store import EventStore, Query
from edge_app.settings.sections.events import EventsConfig
from edge_app.web.sink import HttpSink
from tests.helpers.events import RecordingTeacher, changed, classified
from tests.helpers.live_view import FakeStatus, chromium  # noqa: F401 (fixture)
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.slow  # a real browser


@dataclass
class Served:
    url: str
    keeper: EventKeeper
    teacher: RecordingTeacher


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    teacher = RecordingTeacher()
    keeper = EventKeeper(EventsConfig(), EventStore(tmp_path), lambda camera, region: teacher)
    keeper.picker.options = replace(keeper.picker.options, every_s=0.0)
    bus = Bus(lossless=True)
    keeper.attach(bus)
    bus.start()
    for event in [changed(1, "open", None), changed(2, "closed", "open")]:
        bus.publish(event)
    for seq in range(3, 9):
        bus.publish(classified(seq, "cat" if seq < 5 else "open", 0.3, state="closed"))
    bus.close(10)
    keeper.store.flush()
    sink = HttpSink(parse_address("0"), FakeStatus(), routes=routes(keeper))
    sink.start(threading.Event())
    yield Served(sink.url.rstrip("/"), keeper, teacher)
    sink.close()
    keeper.close()


def _timeline(driver: Any) -> list[dict[str, Any]]:
    return driver.execute_script(
        """return [...document.querySelectorAll("#timeline li")].map((li) => ({
          text: li.querySelector(".what").textContent, selected: li.getAttribute("aria-selected") === "true",
          thumb: li.querySelector("img").complete && li.querySelector("img").naturalWidth > 0}));"""
    )


def _queue(driver: Any) -> list[dict[str, Any]]:
    return driver.execute_script(
        """return [...document.querySelectorAll("#queue figure")].map((f) => ({
          caption: f.querySelector("figcaption").textContent, chosen: f.classList.contains("chosen")}));"""
    )


def _text(driver: Any, element_id: str) -> str:
    return str(driver.execute_script(f"return document.getElementById({element_id!r}).textContent"))


def test_the_timeline_with_keys_and_the_snapshot(chromium: Any, served: Served) -> None:
    chromium.get(served.url + "/events")
    shown = wait_until(lambda: len(_timeline(chromium)) == 2 and all(i["thumb"] for i in _timeline(chromium)))
    assert shown
    assert [item["text"] for item in _timeline(chromium)] == ["door: open \u2192 closed", "door: open"]
    assert _text(chromium, "unreviewed") == "2"

    chromium.find_element("id", "timeline").send_keys("j")  # the newest opens
    wait_until(lambda: _timeline(chromium)[0]["selected"])
    snapshot = wait_until(
        lambda: chromium.execute_script(
            "const i = document.querySelector('#detail img'); return i && i.complete && i.naturalWidth;"
        ),
        message="the snapshot never showed",
    )
    assert snapshot == 160  # the frame's own width
    chromium.find_element("id", "timeline").send_keys("r")
    wait_until(lambda: _text(chromium, "unreviewed") == "1", message="r never marked it reviewed")
    newest = served.keeper.store.page(Query()).events[0]
    assert newest.reviewed and newest.label == "closed"

    chromium.find_element("id", "timeline").send_keys("j")  # down to the older one
    wait_until(lambda: _timeline(chromium)[1]["selected"])
    chromium.find_element("css selector", "#detail input").send_keys("ajar")
    chromium.find_element("xpath", "//button[text()='This was wrong: it is']").click()
    wait_until(lambda: served.teacher.trainings == 1, message="the fix never reached the teacher")
    assert [label for label, _, _ in served.teacher.examples] == ["ajar"]


def test_the_review_queue_selects_assigns_and_discards(chromium: Any, served: Served) -> None:
    chromium.get(served.url + "/events")
    wait_until(lambda: len(_queue(chromium)) == 6, message="the review queue never filled")
    assert [f["caption"] for f in _queue(chromium)] == ["open 0.30"] * 4 + ["cat 0.30"] * 2  # newest first
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    chromium.find_elements("css selector", "#queue figure")[0].click()  # the queue is redrawn on each choice
    third = chromium.find_elements("css selector", "#queue figure")[2]
    ActionChains(chromium).key_down(Keys.SHIFT).click(third).key_up(Keys.SHIFT).perform()
    wait_until(lambda: [f["chosen"] for f in _queue(chromium)].count(True) == 3)
    chromium.find_element("id", "assign-label").send_keys("open")
    chromium.find_element("id", "assign").click()
    wait_until(lambda: len(_queue(chromium)) == 3, message="assigned frames stayed in the queue")
    assert [label for label, _, _ in served.teacher.examples] == ["open"] * 3 and served.teacher.trainings == 0
    assert "added 3 to open" in _text(chromium, "review-message")

    chromium.find_element("xpath", "//button[text()='all cat']").click()  # select all of a kind
    wait_until(lambda: [(f["caption"].split()[0], f["chosen"]) for f in _queue(chromium)].count(("cat", True)) == 2)
    assert not [f for f in _queue(chromium) if f["chosen"] and not f["caption"].startswith("cat")]
    chromium.find_element("id", "discard").click()
    wait_until(lambda: len(_queue(chromium)) == 1, message="discard never emptied the chosen frames")
    assert "discarded 2" in _text(chromium, "review-message")
