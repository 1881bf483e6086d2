"""Which cameras this machine has, without opening any of them."""

from __future__ import annotations

from pathlib import Path


def picamera2_cameras() -> list[dict[str, object]]:
    """libcamera's view (CSI cameras, and USB cameras libcamera also sees); [] without picamera2."""
    try:
        from picamera2 import Picamera2
    except ImportError:
        return []
    try:
        return list(Picamera2.global_camera_info())
    except Exception:  # a broken libcamera install must not break `info`
        return []


def v4l2_cameras(sysfs: Path = Path("/sys/class/video4linux")) -> list[tuple[int, str]]:
    """(index, name) of V4L2 capture nodes; the Pi's ISP and codec nodes are left out."""
    found = []
    for node in sorted(sysfs.glob("video*"), key=lambda p: int(p.name[5:] or 0)):
        try:
            name = (node / "name").read_text().strip()
        except OSError:
            continue
        if any(word in name for word in ("bcm2835-isp", "bcm2835-codec", "pispbe", "rpi-hevc", "rp1-cfe", "unicam")):
            continue
        index_file = node / "index"
        if index_file.exists() and index_file.read_text().strip() not in ("", "0"):
            continue  # metadata node of a camera already listed
        found.append((int(node.name[5:]), name))
    return found
