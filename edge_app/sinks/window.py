"""`--display`: a local window, for a Pi with a screen.

HighGUI must be driven from one thread, so the window has its own and shows the newest
frame; closing it or pressing q or Esc stops the run.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

import numpy as np

from edge_app.errors import EdgeAppError
from edge_app.frames import Frame, Result
from edge_app.latest import Latest
from edge_app.sink import Sink

if TYPE_CHECKING:
    from edge_app.settings.sections.output import OutputConfig
    from edge_app.sinks.registry import SinkContext

TITLE = "edge-app"


def check_gui() -> None:
    """Fail early, in one line, when a window cannot be shown."""
    import cv2

    gui = [line for line in cv2.getBuildInformation().splitlines() if line.strip().startswith("GUI:")]
    if gui and gui[0].split(":", 1)[1].strip().upper() == "NONE":
        raise EdgeAppError(
            "--display needs OpenCV with a GUI, but this OpenCV is a headless build",
            "pip install opencv-python (instead of opencv-python-headless), or watch in a browser with --http",
        )
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise EdgeAppError(
            "--display needs a screen, but no DISPLAY or WAYLAND_DISPLAY is set",
            "run it on the Pi's desktop, or watch in a browser with --http",
        )


class WindowSink(Sink):
    def __init__(self) -> None:
        check_gui()
        self._latest: Latest[np.ndarray] = Latest()
        self._thread: threading.Thread | None = None

    def start(self, stop: threading.Event, lossless: bool = False) -> None:
        self._stop = stop
        self._thread = threading.Thread(target=self._show, name="edge-app-window", daemon=True)
        self._thread.start()

    def frame(self, image: np.ndarray, frame: Frame, result: Result | None) -> None:
        self._latest.put(image)

    def _show(self) -> None:
        import cv2

        cv2.namedWindow(TITLE, cv2.WINDOW_NORMAL)
        last = 0
        try:
            while not self._stop.is_set():
                item = self._latest.get(last, timeout=0.05)
                if item is not None:
                    last, image = item
                    cv2.imshow(TITLE, image)
                key = cv2.waitKey(1) & 0xFF
                if key in (ord("q"), 27) or cv2.getWindowProperty(TITLE, cv2.WND_PROP_VISIBLE) < 1:
                    self._stop.set()
        finally:
            cv2.destroyAllWindows()

    def close(self, timeout: float = 2.0) -> None:
        self._latest.close()
        if self._thread is not None:
            self._thread.join(timeout)


def from_config(config: OutputConfig, context: SinkContext) -> WindowSink:
    return WindowSink()
