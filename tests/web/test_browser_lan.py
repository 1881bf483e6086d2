"""A real `edge-app run --http 0.0.0.0:PORT` in headless Chromium: the page asks for the access
token, takes it, and then plays the video; the page's own POSTs pass the cross-site check.

Skipped where Chromium or chromedriver is missing, unless EDGE_APP_REQUIRE_TOOLS=1 (CI)."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.app_process import FAST_MODEL, log_of, processes, start  # noqa: F401 (fixture)
from tests.helpers.live_view import check_live_view, chromium, get, wait_until  # noqa: F401 (fixture)
from tests.helpers.ports import free_port

pytestmark = pytest.mark.slow

_POST = """
const done = arguments[arguments.length - 1];
fetch("api/status", {method: "POST", body: "{}"}).then((r) => done(r.status), (e) => done(String(e)));
"""


def test_enter_the_token_then_see_the_video(
    chromium: Any, model_cache: Path, tmp_path: Path, processes: list, output_dir: Path
) -> None:
    from selenium.webdriver.common.by import By

    port = free_port()
    process, _ = start(
        [
            "--source",
            "synthetic",
            "--model",
            FAST_MODEL,
            "--http",
            f"0.0.0.0:{port}",
            "--state-dir",
            str(tmp_path),
            "--smooth",
            "30",
        ]
    )
    processes.append(process)
    token_file = tmp_path / "http-token"
    assert wait_until(lambda: "?token=" in log_of(process) and token_file.exists(), timeout=30), log_of(process)
    token = token_file.read_text().strip()
    assert "live view on the network: http://" in log_of(process) and str(token_file) in log_of(process)
    base = f"http://127.0.0.1:{port}/"  # a 0.0.0.0 bind wants the token from this machine too
    assert wait_until(lambda: get(base, "/healthz")[0] == 200, timeout=30)
    assert get(base, "/api/status")[0] == 401

    chromium.delete_all_cookies()
    chromium.get(base)
    assert wait_until(lambda: chromium.execute_script("return document.body.dataset.ready === '1'"), timeout=10)
    chromium.save_screenshot(str(output_dir / "live_view_token_form.png"))
    field = chromium.find_element(By.NAME, "token")
    field.send_keys(token)
    field.submit()
    # The form and the live view share the URL: wait for the video element, not for the address.
    assert wait_until(lambda: chromium.execute_script("return !!document.getElementById('stream')"), timeout=10), (
        chromium.page_source[:300]
    )
    assert chromium.current_url == base  # the token left the address bar
    playing = check_live_view(
        chromium, base, screenshot=output_dir / "live_view_lan.png", scores=False, token=token, load=False
    )
    assert (playing["width"], playing["height"]) == (640, 480)
    cookies = {cookie["name"]: cookie for cookie in chromium.get_cookies()}
    assert cookies[f"edge_app_{port}"]["httpOnly"] and cookies[f"edge_app_{port}"]["sameSite"] == "Strict"

    chromium.set_script_timeout(10)
    assert chromium.execute_async_script(_POST) == 405  # our page's POST passes the gate (and meets a GET-only route)

    # a link from another site (a chat, a mail): the browser withholds the Strict cookie;
    # the form reloads once and is let in
    chromium.get(f"data:text/html,<a id=go href='{base}'>the camera</a>")
    chromium.find_element(By.ID, "go").click()
    assert wait_until(lambda: chromium.execute_script("return !!document.getElementById('stream')"), timeout=10), (
        chromium.page_source[:300]
    )
    process.send_signal(signal.SIGTERM)
    assert process.wait(10) == 0
