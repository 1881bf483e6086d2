"""The live view in a real (headless) Chromium: the video plays, the stats are live, phones fit.

Skipped where Chromium or chromedriver is missing, unless EDGE_APP_REQUIRE_TOOLS=1 (CI).
The sink is fed by a thread here; the checks take a base URL, so an end-to-end test of
`edge-app run --source synthetic --http ...` can reuse `chromium` and `check_live_view`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from edge_app.address import parse_address
from edge_app.web.sink import HttpSink
from tests.helpers.live_view import FakeStatus, Feeder, check_live_view, chromium, get_status, wait_for_labels  # noqa: F401 (fixture)
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.slow  # a real browser: the inner loop (`pytest -m "not slow"`) leaves it out


@pytest.fixture(scope="module")
def status() -> FakeStatus:
    return FakeStatus()


@pytest.fixture(scope="module")
def live(status: FakeStatus) -> Iterator[str]:
    """A fed live view for the whole module; yields its base URL."""
    sink = HttpSink(parse_address("0"), status)
    sink.start(threading.Event())
    feeder = Feeder(sink.frame, fps=30.0)
    feeder.start()
    yield sink.url
    feeder.close()
    sink.close()


def text(driver: Any, element_id: str) -> str:
    return driver.execute_script(f"return document.getElementById('{element_id}').textContent")


def test_the_video_plays_and_the_labels_match_the_status(chromium: Any, live: str, output_dir: Path) -> None:
    playing = check_live_view(chromium, live, screenshot=output_dir / "live_view.png")
    assert (playing["width"], playing["height"]) == (640, 480)
    assert text(chromium, "fps-video") == "30.0"
    assert text(chromium, "inference-ms") == "4.2 ms"
    assert text(chromium, "uptime") == "1:02:05"
    assert text(chromium, "drops-inference") == "10"
    assert text(chromium, "model") == "mobilenet_v2_1.0_224_quant on cpu"
    assert text(chromium, "state") == "running"
    wait_until(lambda: text(chromium, "viewers") == "1", message="the page never counted its own viewer")
    assert get_status(live)["stream"]["viewers"] == 1


def test_the_page_follows_new_results(chromium: Any, live: str, status: FakeStatus) -> None:
    chromium.get(live)
    status.data["labels"] = [{"index": 964, "label": "hotdog", "score": 0.875}]
    wait_for_labels(chromium, live)
    assert text(chromium, "labels") == "hotdog87.5 %"


def test_no_signal_is_shown_and_cleared(chromium: Any, live: str, status: FakeStatus, output_dir: Path) -> None:
    """The frames themselves say NO SIGNAL (a card every viewer and recording gets): the page says it
    once more only in its state pill and the source line, never as a second caption over the video."""
    chromium.get(live)
    overlay_shown = "return document.getElementById('overlay').classList.contains('shown')"
    wait_until(lambda: text(chromium, "state") == "running", message="the page never showed the running state")
    assert not chromium.execute_script(overlay_shown)
    status.data.update(state="no signal", healthy=False)
    status.data["source"].update(connected=False, outage_s=12.0, reconnects=3)
    try:
        assert wait_until(lambda: text(chromium, "state") == "no signal", timeout=3.0)
        assert text(chromium, "source") == "synthetic, down for 0:12, 3 reconnects"
        assert not chromium.execute_script(overlay_shown)
    finally:
        status.data.update(state="running", healthy=True)
        status.data["source"].update(connected=True, outage_s=None, reconnects=0)
    assert wait_until(lambda: text(chromium, "source") == "synthetic", timeout=3.0)


def test_the_no_signal_card_is_the_one_notice(chromium: Any, output_dir: Path) -> None:
    from edge_app.overlay import no_signal

    down = FakeStatus()
    down.data.update(state="no signal", healthy=False)
    down.data["source"].update(name="video:clip.mp4", connected=False, outage_s=3.0)
    sink = HttpSink(parse_address("0"), down)
    sink.start(threading.Event())
    feeder = Feeder(sink.frame, fps=5.0, images=[no_signal(640, 480, "video:clip.mp4: cannot open, retrying in 4 s")])
    feeder.start()
    try:
        chromium.get(sink.url)
        assert wait_until(lambda: text(chromium, "state") == "no signal", timeout=5.0)
        assert wait_until(
            lambda: chromium.execute_script("return document.getElementById('stream').naturalWidth") > 0, timeout=10.0
        )
        assert not chromium.execute_script("return document.getElementById('overlay').classList.contains('shown')")
        chromium.save_screenshot(str(output_dir / "live_view_no_signal.png"))
    finally:
        feeder.close()
        sink.close()


def test_the_source_name_wraps_at_separators_not_mid_word(
    chromium: Any, live: str, status: FakeStatus, output_dir: Path
) -> None:
    name = "stream:rtsp://camera.local:8554/front-door-main"
    chromium.set_window_size(960, 900)  # two columns, the narrowest side panel
    status.data["source"]["name"] = name
    try:
        chromium.get(live)
        assert wait_until(lambda: text(chromium, "source") == name, timeout=3.0)
        pieces = chromium.execute_script(
            "return [...document.getElementById('source').childNodes].filter((n) => n.nodeType === 3).map((n) => {"
            "  const range = document.createRange(); range.selectNodeContents(n);"
            "  return [n.textContent, new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size]; });"
        )
        assert [piece for piece, _ in pieces] == [
            "stream:",
            "rtsp:",
            "/",
            "/",
            "camera.local:",
            "8554/",
            "front-door-main",
        ]
        assert all(lines == 1 for _, lines in pieces), f"a piece broke across lines: {pieces}"
        values = chromium.execute_script(
            "return [...document.querySelectorAll('dd:not(#source)')].map((dd) => {"
            "  const range = document.createRange(); range.selectNodeContents(dd);"
            "  return [dd.id, new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size]; });"
        )
        assert all(lines == 1 for _, lines in values), f"values such as 1:02:05 stay whole: {values}"
        chromium.save_screenshot(str(output_dir / "live_view_source_name.png"))
    finally:
        status.data["source"]["name"] = "synthetic"
        chromium.set_window_size(1280, 900)


def test_the_page_fits_a_phone(chromium: Any, live: str, output_dir: Path) -> None:
    chromium.set_window_size(390, 844)
    try:
        check_live_view(chromium, live, screenshot=output_dir / "live_view_phone.png")
        sizes = chromium.execute_script(
            "const img = document.getElementById('stream');"
            "return [document.documentElement.scrollWidth, window.innerWidth, img.getBoundingClientRect().width];"
        )
        scroll_width, inner_width, video_width = sizes
        assert scroll_width <= inner_width, "the page scrolls sideways on a phone"
        assert inner_width * 0.8 <= video_width <= inner_width
    finally:
        chromium.set_window_size(1280, 900)


# Names that wrapped a letter or two a line beside the count ("bi/rd/at/th/e/fe/ed/er", "bo/x").
TEACH_STATE = {
    "enabled": True,
    "base": "mobilenet_v2_1.0_224_quant",
    "model": "mobilenet_v2_1.0_224_quant",
    "trained": False,
    "taught": None,
    "training": False,
    "progress": None,
    "min_examples": 2,
    "max_classes": 100,
    "classes": [
        {"label": "box", "examples": 1, "photos": []},
        {"label": "bird at the feeder", "examples": 1, "photos": []},
        {"label": "parcel", "examples": 4, "photos": []},
    ],
    "last_train": None,
}
# The page asks GET api/teach; this sink has no teaching, so the answer is given in the page itself.
_FAKE_TEACH = """
const realFetch = window.fetch;
window.fetch = (path, init) => String(path).endsWith("api/teach") && (!init || init.method === "GET")
  ? Promise.resolve(new Response(JSON.stringify(%s), {headers: {"Content-Type": "application/json"}}))
  : realFetch(path, init);
"""
_LINES = """
return [...document.querySelectorAll("#teach-classes li")].map((li) => {
  const lines = (el) => Math.round(el.getBoundingClientRect().height / parseFloat(getComputedStyle(el).lineHeight));
  const name = li.querySelector(".class"), count = li.querySelector(".count");
  return [name.textContent, lines(name), count.textContent, lines(count)];
});
"""


@pytest.mark.parametrize("width", [1280, 900, 390])
def test_teach_class_names_stay_whole_beside_a_count_that_asks_for_more(
    chromium: Any, live: str, output_dir: Path, width: int
) -> None:
    import json

    script = chromium.execute_cdp_cmd(
        "Page.addScriptToEvaluateOnNewDocument", {"source": _FAKE_TEACH % json.dumps(TEACH_STATE)}
    )
    chromium.set_window_size(width, 900)
    try:
        chromium.get(live)
        wait_until(
            lambda: len(chromium.execute_script(_LINES)) == 3,
            message=lambda: f"the panel shows {chromium.execute_script(_LINES)}",
        )
        rows = chromium.execute_script(_LINES)
        chromium.save_screenshot(str(output_dir / f"teach_classes_{width}.png"))
    finally:
        chromium.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", script)
        chromium.set_window_size(1280, 900)
    assert [(name, count) for name, _, count, _ in rows] == [
        ("box", "1 example (2 needed)"),
        ("bird at the feeder", "1 example (2 needed)"),
        ("parcel", "4 examples"),
    ]
    assert all(name_lines == 1 and count_lines == 1 for _, name_lines, _, count_lines in rows), rows
