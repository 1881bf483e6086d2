"""The live view's Teach panel in headless Chromium against a real `edge-app run`: a class from
the camera (a slideshow of sunflowers), classes from uploaded flower photos, Train, the live
labels turning into the taught classes, the download, a delete and both resets, all by clicking.

Skipped where Chromium, chromedriver or ../shared is missing, unless EDGE_APP_REQUIRE_TOOLS=1 (CI).
"""

from __future__ import annotations

import base64
import io
import json
import signal
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.app_process import AppProcess, log_of, processes, start, status_when_up  # noqa: F401 (fixture)
from tests.helpers.live_view import chromium, get, get_status, page_labels, wait_for_labels  # noqa: F401 (fixture)
from tests.helpers.ports import free_port
from tests.helpers.shared_data import SHARED
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.slow

FLOWERS = SHARED / "flowers-4"
CAMERA = "sunflower"  # what the camera shows: its examples come from "Add example"
UPLOADED = ("daisy", "bluebell", "buttercup")  # examples uploaded as photos
PHOTOS = 6  # of each; 5 a class is enough to validate
ODD = "50% off #1?"  # a class name that must be escaped in every URL

_DOWNLOAD = """
const done = arguments[arguments.length - 1], link = document.getElementById("teach-download");
fetch(link.href).then(async (r) => {
  const bytes = new Uint8Array(await r.arrayBuffer());
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  done({status: r.status, disposition: r.headers.get("Content-Disposition"), data: btoa(text)});
}, (e) => done({error: String(e)}));
"""

_WATCH = """
window.teachSeen = [];
const seen = () => window.teachSeen.push([document.getElementById("teach-message").textContent,
  document.getElementById("teach-elapsed").textContent, document.getElementById("teach-controls").disabled]);
new MutationObserver(seen).observe(document.getElementById("teach"),
  {subtree: true, childList: true, characterData: true, attributes: true});
"""

_CLASSES = """
return [...document.querySelectorAll("#teach-classes li")].map((li) => [li.querySelector(".class").textContent,
  li.querySelector(".count").textContent,
  [...li.querySelectorAll(".thumbs img")].map((img) => img.complete && img.naturalWidth > 0)]);
"""


def photos(species: str, split: str = "train", n: int = PHOTOS, skip: int = 0) -> list[Path]:
    found = sorted((FLOWERS / split / species).glob("*.jpg"))[skip : skip + n]
    assert len(found) == n, f"{FLOWERS / split / species} has too few photos"
    return found


def text(driver: Any, element_id: str) -> str:
    return driver.execute_script(f"return document.getElementById('{element_id}').textContent")


def shown(driver: Any, element_id: str) -> bool:
    return driver.find_element("id", element_id).is_displayed()


def idle(driver: Any) -> bool:
    """The panel has answered its last action (the controls come back when it has)."""
    return not driver.execute_script("return document.getElementById('teach-controls').disabled")


def classes(driver: Any) -> dict[str, tuple[str, list[bool]]]:
    """Class name: (its count as shown, whether each thumbnail loaded)."""
    return {name: (count, loaded) for name, count, loaded in driver.execute_script(_CLASSES)}


def message_after(driver: Any, click: Any) -> str:
    """Do `click`, wait for the panel to answer, and return what it said."""
    click()
    wait_until(lambda: idle(driver), timeout=60, message="the panel never answered")
    return text(driver, "teach-message")


def type_name(driver: Any, name: str) -> None:
    field = driver.find_element("id", "teach-label")
    field.clear()
    field.send_keys(name)


def upload(driver: Any, name: str, files: list[Path]) -> str:
    type_name(driver, name)
    return message_after(driver, lambda: driver.find_element("id", "teach-files").send_keys("\n".join(map(str, files))))


def confirm(driver: Any, button: Any) -> str:
    """Click a button that asks first, and say yes."""

    def click() -> None:
        button.click()
        alert = driver.switch_to.alert
        assert "?" in alert.text
        alert.accept()

    return message_after(driver, click)


@pytest.fixture
def camera(tmp_path: Path) -> Path:
    """A folder of sunflower photos the slideshow source shows, like a camera pointed at them."""
    folder = tmp_path / "camera"
    folder.mkdir()
    for photo in photos(CAMERA, "test"):
        (folder / photo.name).symlink_to(photo)
    return folder


def test_teach_from_the_live_view(
    chromium: Any, model_cache: Path, camera: Path, tmp_path: Path, processes: list, output_dir: Path
) -> None:
    from selenium.webdriver.common.by import By

    def run() -> tuple[AppProcess, str]:
        port = free_port()
        base = f"http://127.0.0.1:{port}/"
        process, _ = start(
            [
                "--source",
                str(camera),
                "--fps",
                "2",
                "--loop",
                "--http",
                f"127.0.0.1:{port}",
                "--state-dir",
                str(tmp_path / "state"),
            ]
        )
        processes.append(process)
        wait_until(lambda: status_when_up(base).get("labels"), timeout=60, message=lambda: log_of(process))
        return process, base

    process, base = run()
    base_model = get_status(base)["model"]["name"]
    chromium.set_window_size(1280, 1400)  # the whole page, panel and all, in the screenshot
    try:
        chromium.get(base)
        wait_until(lambda: shown(chromium, "teach-form"), message="the Teach panel never showed")
        assert not shown(chromium, "teach-off") and not shown(chromium, "teach-download")
        assert text(chromium, "teach-result") == f"Running the base model, {base_model}."

        # a name first; then the current frame, a few times (a frame seen before is said, not counted twice)
        frame = chromium.find_element(By.ID, "teach-frame")
        assert message_after(chromium, frame.click) == "Type a class name first."
        assert "error" in chromium.find_element(By.ID, "teach-message").get_attribute("class")
        type_name(chromium, CAMERA)
        said: list[str] = []

        def three_frames() -> bool:
            said.append(message_after(chromium, frame.click))
            return classes(chromium).get(CAMERA, ("",))[0] == "3 examples"

        wait_until(three_frames, timeout=60, interval=0.3, message=lambda: f"after {said}: {classes(chromium)}")
        assert said[0] == f"Added the current frame to {CAMERA} (1 example)."
        assert all(
            s.startswith((f"Added the current frame to {CAMERA}", f"That frame is already an example of {CAMERA}"))
            for s in said
        ), said

        # training with one class: the 422 says what is missing, in the panel
        train = chromium.find_element(By.ID, "teach-train")
        assert message_after(chromium, train.click).startswith(
            "training needs at least 2 classes, there is only 'sunflower'"
        )
        assert "error" in chromium.find_element(By.ID, "teach-message").get_attribute("class")

        for species in UPLOADED:
            assert upload(chromium, species, photos(species)) == f"Added {PHOTOS} photos to {species}."
        assert upload(chromium, CAMERA, photos(CAMERA, n=PHOTOS - 3)) == f"Added {PHOTOS - 3} photos to {CAMERA}."
        wanted = sorted((*UPLOADED, CAMERA))
        wait_until(
            lambda: (
                sorted(classes(chromium)) == wanted
                and all(all(loaded) and len(loaded) == 4 for _, loaded in classes(chromium).values())
            ),
            message=lambda: f"the panel shows {classes(chromium)}",
        )
        assert {name: count for name, (count, _) in classes(chromium).items()} == {
            name: f"{PHOTOS} examples" for name in wanted
        }
        assert text(chromium, "teach-hint") == "Ready to train."

        chromium.execute_script(_WATCH)
        assert message_after(chromium, train.click) == "Trained: the labels are your classes now."
        seen = chromium.execute_script("return window.teachSeen")
        assert any(
            message == "Training..." and elapsed.endswith(" s") and disabled for message, elapsed, disabled in seen
        ), seen
        assert text(chromium, "teach-elapsed") == ""
        assert text(chromium, "teach-result").startswith(f"Taught 4 classes on {4 * PHOTOS} examples in ")
        assert text(chromium, "teach-validation").startswith("Validation top-1: ")
        assert text(chromium, "teach-hint") == ""

        # the live labels are the taught classes, on the page and in /api/status
        taught = f"taught on {base_model}"
        wait_until(lambda: text(chromium, "model").startswith(taught), message=lambda: text(chromium, "model"))
        wait_for_labels(chromium, base, scores=False, timeout=30)
        assert {name for name, _ in page_labels(chromium)} <= set(wanted)
        status = get_status(base)
        assert status["model"]["name"] == taught and {item["label"] for item in status["labels"]} <= set(wanted)
        wait_until(
            lambda: page_labels(chromium) and page_labels(chromium)[0][0] == CAMERA,
            timeout=30,
            message=lambda: f"the camera shows sunflowers, the page says {page_labels(chromium)}",
        )
        chromium.save_screenshot(str(output_dir / "teach_panel.png"))

        # the download: through the page's origin, a .tflite with the labels (and what it was taught from) zipped in
        assert shown(chromium, "teach-download")
        chromium.set_script_timeout(30)
        download = chromium.execute_async_script(_DOWNLOAD)
        assert download.get("status") == 200, download
        assert "taught.tflite" in download["disposition"]
        model = base64.b64decode(download["data"])
        assert model[4:8] == b"TFL3"
        with zipfile.ZipFile(io.BytesIO(model)) as archive:
            assert archive.read("labels.txt").decode().split("\n")[:4] == wanted
            assert json.loads(archive.read("teach.json"))["classes"] == wanted

        # a class whose name needs escaping: thumbnails load, the hint says to train again, delete it
        assert upload(chromium, ODD, photos("daisy", "test", n=2)) == f"Added 2 photos to {ODD}."
        wait_until(
            lambda: classes(chromium).get(ODD, ("", []))[1] == [True, True],
            message=lambda: f"the panel shows {classes(chromium)}",
        )
        assert text(chromium, "teach-hint") == "The examples changed since training: train again to use them."
        drop = chromium.find_element(
            By.CSS_SELECTOR, f"#teach-classes button[aria-label='Delete this example of {ODD}']"
        )
        assert (
            message_after(chromium, drop.click) == f"Deleted an example of {ODD} (1 example left)."
        )  # one, from its thumbnail
        wait_until(
            lambda: classes(chromium).get(ODD, ("", []))[1] == [True],
            message=lambda: f"the panel shows {classes(chromium)}",
        )
        delete = chromium.find_element(By.CSS_SELECTOR, f"#teach-classes button[aria-label='Delete {ODD}']")
        assert delete.text == "Delete"
        assert confirm(chromium, delete) == f"Deleted {ODD} (1 example)."
        assert sorted(classes(chromium)) == wanted and text(chromium, "teach-hint") == ""

        # a restart runs the taught model from the first frame; the panel tells what it was taught from
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
        process, base = run()
        assert "using the model taught from the live view (bluebell, buttercup, daisy, sunflower)" in log_of(process)
        assert get_status(base)["model"]["name"] == taught
        chromium.get(base)
        wait_until(
            lambda: text(chromium, "teach-result") == f"Taught 4 classes on {4 * PHOTOS} examples.",
            message=lambda: text(chromium, "teach-result"),
        )
        assert text(chromium, "teach-validation").startswith("Validation top-1: ") and shown(chromium, "teach-download")

        # on a phone: nothing scrolls sideways
        chromium.set_window_size(390, 844)
        widths = chromium.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1], f"the page scrolls sideways on a phone: {widths}"
        chromium.execute_script("document.getElementById('teach').scrollIntoView()")
        chromium.save_screenshot(str(output_dir / "teach_panel_phone.png"))
        chromium.set_window_size(1280, 1400)

        # reset: the base model again, the examples kept; then with them deleted
        assert (
            confirm(chromium, chromium.find_element(By.ID, "teach-reset"))
            == f"Back to {base_model}; the examples are kept."
        )
        assert (
            not shown(chromium, "teach-download")
            and text(chromium, "teach-result") == f"Running the base model, {base_model}."
        )
        assert sorted(classes(chromium)) == wanted
        wait_until(lambda: text(chromium, "model").startswith(base_model), message=lambda: text(chromium, "model"))
        assert get_status(base)["model"]["name"] == base_model
        assert get(base, "/api/teach/model.tflite")[0] == 404

        chromium.find_element(By.ID, "teach-reset-examples").click()
        assert (
            confirm(chromium, chromium.find_element(By.ID, "teach-reset"))
            == f"Back to {base_model}; {4 * PHOTOS} examples deleted."
        )
        assert classes(chromium) == {} and not chromium.find_element(By.ID, "teach-reset-examples").is_selected()
        assert text(chromium, "teach-hint") == "Type a class name, then add examples: the current frame, or photos."
        assert "Traceback" not in log_of(process)
    finally:
        chromium.set_window_size(1280, 900)


def test_the_panel_says_why_teaching_is_off(chromium: Any, model_cache: Path, tmp_path: Path, processes: list) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    process, _ = start(
        [
            "--source",
            "synthetic",
            "--no-teach",
            "--model",
            "mobilenet_v1_0.25_128_quant",
            "--http",
            f"127.0.0.1:{port}",
            "--state-dir",
            str(tmp_path / "state"),
        ]
    )
    processes.append(process)
    wait_until(lambda: status_when_up(base).get("labels"), timeout=60, message=lambda: log_of(process))
    chromium.get(base)
    wait_until(lambda: shown(chromium, "teach-off"), message="the panel never said teaching is off")
    assert text(chromium, "teach-off") == "teaching is off (teach = false)"
    assert not shown(chromium, "teach-form")
