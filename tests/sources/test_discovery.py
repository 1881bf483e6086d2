"""Camera discovery for `edge-app info`: V4L2 nodes from a fake sysfs, picamera2 via the fake."""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType

import pytest

from edge_app.errors import EdgeAppError
from edge_app.sources.discovery import (
    CameraEntry,
    is_csi_camera,
    is_usb,
    list_cameras,
    load_picamera2,
    picamera2_cameras,
    v4l2_cameras,
)
from tests.helpers.picamera2_fixtures import no_picamera2, picamera2  # noqa: F401  (fixtures)

USB_ID = "/base/axi/pcie@120000/rp1/usb@200000-1:1.0-046d:0825"
CSI_ID = "/base/soc/i2c0mux/i2c@1/imx708@1a"


def node(sysfs: Path, name: str, label: str, index: str | None = "0") -> None:
    folder = sysfs / name
    folder.mkdir(parents=True)
    (folder / "name").write_text(label + "\n")
    if index is not None:
        (folder / "index").write_text(index + "\n")


@pytest.fixture
def pi4_with_webcam(tmp_path: Path) -> Path:
    """/sys/class/video4linux of a Pi 4 with a ribbon camera and a USB webcam."""
    sysfs = tmp_path / "video4linux"
    node(sysfs, "video0", "unicam-image")
    node(sysfs, "video1", "unicam-embedded", "1")
    node(sysfs, "video10", "bcm2835-codec-decode")
    node(sysfs, "video13", "bcm2835-isp")
    node(sysfs, "video2", "HD Webcam C525: HD Webcam C525")
    node(sysfs, "video3", "HD Webcam C525: HD Webcam C525", "1")  # its metadata node
    node(sysfs, "video20", "USB Capture HDMI", None)  # older kernels have no index file
    (sysfs / "video-bogus").mkdir()
    node(sysfs, "video30", "broken")
    (sysfs / "video30" / "name").unlink()  # unreadable: skipped, not a crash
    return sysfs


def test_v4l2_lists_capture_nodes_only_in_numeric_order(pi4_with_webcam: Path) -> None:
    assert v4l2_cameras(pi4_with_webcam) == [(2, "HD Webcam C525: HD Webcam C525"), (20, "USB Capture HDMI")]


def test_nothing_there_is_an_empty_list(tmp_path: Path, no_picamera2: None) -> None:
    assert v4l2_cameras(tmp_path / "missing") == []
    assert picamera2_cameras() == []
    assert list_cameras(tmp_path / "missing") == []


def test_picamera2_cameras_and_csi_or_usb(picamera2: ModuleType) -> None:
    picamera2.Picamera2.cameras_info = [{"Model": "imx708", "Id": CSI_ID}, {"Model": "C525", "Id": USB_ID}]
    cameras = picamera2_cameras()
    assert [c["Model"] for c in cameras] == ["imx708", "C525"]
    assert [is_usb(c) for c in cameras] == [False, True]
    assert [is_csi_camera(i, cameras) for i in (0, 1, 2, -1)] == [True, False, False, False]


def test_list_cameras_says_how_to_pick_each(picamera2: ModuleType, pi4_with_webcam: Path) -> None:
    picamera2.Picamera2.cameras_info = [{"Model": "imx708", "Id": CSI_ID}, {"Model": "C525", "Id": USB_ID}]
    assert list_cameras(pi4_with_webcam) == [
        CameraEntry("picamera2", 0, "imx708", "--camera 0 --backend picamera2"),
        CameraEntry("opencv", 2, "HD Webcam C525: HD Webcam C525", "--source /dev/video2"),
        CameraEntry("opencv", 20, "USB Capture HDMI", "--source /dev/video20"),
    ]


def test_a_picamera2_that_breaks_on_import_is_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The classic: a venv numpy the system's picamera2 (and simplejpeg) was not built for."""
    package = tmp_path / "picamera2"
    package.mkdir()
    (package / "__init__.py").write_text(
        "raise ValueError('numpy.dtype size changed, may indicate binary incompatibility')\n"
    )
    monkeypatch.delitem(sys.modules, "picamera2", raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(
        EdgeAppError, match="picamera2 cannot be imported .ValueError: numpy.dtype size changed"
    ) as failure:
        load_picamera2()
    assert "python3-picamera2" in str(failure.value)
    assert picamera2_cameras() == []  # `info` and backend auto shrug it off
