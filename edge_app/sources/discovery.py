"""Which cameras this machine has, without opening any of them; and loading picamera2 itself."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge_app.errors import EdgeAppError

# V4L2 nodes of the Pi's own ISP, codecs and CSI receivers: not cameras a user can open with OpenCV.
PI_INTERNAL_NODES = ("bcm2835-isp", "bcm2835-codec", "pispbe", "rpi-hevc", "rp1-cfe", "unicam")
PICAMERA2_HINT = (
    "install it with `sudo apt install python3-picamera2` and make the venv with `python3 -m venv "
    "--system-site-packages`"
)


def load_picamera2() -> Any:
    """The Picamera2 class, or EdgeAppError saying how to get it."""
    os.environ.setdefault("LIBCAMERA_LOG_LEVELS", "*:ERROR")  # libcamera logs INFO lines to stderr by default
    try:
        from picamera2 import Picamera2
    except ImportError as exc:
        raise EdgeAppError(f"picamera2 is not available ({exc})", PICAMERA2_HINT) from None
    except Exception as exc:  # e.g. a numpy in the venv that the system's picamera2 was not built for
        raise EdgeAppError(f"picamera2 cannot be imported ({type(exc).__name__}: {exc})", PICAMERA2_HINT) from None
    return Picamera2


def picamera2_cameras() -> list[dict[str, object]]:
    """libcamera's view (CSI cameras, and USB cameras libcamera also sees); [] without picamera2."""
    try:
        return list(load_picamera2().global_camera_info())
    except Exception:  # no picamera2, or a broken libcamera install: must not break `info` or `auto`
        return []


def is_usb(camera: dict[str, object]) -> bool:
    """A libcamera camera on USB (a webcam libcamera also lists), as opposed to a CSI ribbon camera."""
    return "usb" in str(camera.get("Id", "")).lower()


def is_csi_camera(index: int, cameras: list[dict[str, object]]) -> bool:
    return 0 <= index < len(cameras) and not is_usb(cameras[index])


def v4l2_cameras(sysfs: Path = Path("/sys/class/video4linux")) -> list[tuple[int, str]]:
    """(index, name) of V4L2 capture nodes; the Pi's ISP and codec nodes and metadata nodes left out."""
    found = []
    for node in sysfs.glob("video*"):
        match = re.fullmatch(r"video(\d+)", node.name)
        if not match:
            continue
        try:
            name = (node / "name").read_text().strip()
            index = (node / "index").read_text().strip() if (node / "index").exists() else "0"
        except OSError:
            continue
        if any(word in name for word in PI_INTERNAL_NODES):
            continue
        if index not in ("", "0"):
            continue  # a camera's second node (metadata), already listed with its first
        found.append((int(match.group(1)), name))
    return sorted(found)


@dataclass(frozen=True)
class CameraEntry:
    backend: str  # "picamera2" | "opencv"
    index: int
    name: str
    option: str  # the command-line option that selects exactly this camera


def list_cameras(sysfs: Path = Path("/sys/class/video4linux")) -> list[CameraEntry]:
    """Every camera found, each with the option that picks it, for `edge-app info`."""
    entries = [
        CameraEntry("picamera2", i, str(c.get("Model", "camera")), f"--camera {i} --backend picamera2")
        for i, c in enumerate(picamera2_cameras())
        if not is_usb(c)
    ]
    entries += [CameraEntry("opencv", i, name, f"--source /dev/video{i}") for i, name in v4l2_cameras(sysfs)]
    return entries
