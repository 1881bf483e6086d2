"""From --camera/--source/--backend to a Source: dispatch by form, backend choice, bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from edge_app.errors import EdgeAppError
from edge_app.sources.factory import choose_backend, open_source
from edge_app.sources.opencv_camera import OpenCVCamera
from edge_app.sources.pi_camera import PiCameraSource
from edge_app.sources.slideshow import SlideshowSource
from edge_app.sources.spec import SourceSpec, parse_resolution
from edge_app.sources.synthetic import SyntheticSource
from edge_app.sources.video import StreamSource, VideoFileSource
from tests.helpers.picamera2_fixtures import no_picamera2, picamera2  # noqa: F401  (fixtures)
from tests.helpers.shared_data import IMAGES


@pytest.mark.parametrize(
    ("text", "size"),
    [("640x480", (640, 480)), ("1280X720", (1280, 720)), (" 320 x 240 ", (320, 240)), ("16x16", (16, 16))],
)
def test_parse_resolution(text: str, size: tuple[int, int]) -> None:
    assert parse_resolution(text) == size


@pytest.mark.parametrize(
    "text", ["", "640", "640x", "x480", "640x480x3", "-640x480", "640.5x480", "wide", "0x0", "8x8", "99999x480"]
)
def test_parse_resolution_rejects_with_a_hint(text: str) -> None:
    with pytest.raises(EdgeAppError) as failure:
        parse_resolution(text)
    assert "e.g. 640x480" in str(failure.value)


def test_synthetic() -> None:
    source = open_source(SourceSpec("synthetic", resolution=(320, 240), fps=15.0))
    assert isinstance(source, SyntheticSource)
    assert (source.size, source.fps) == ((320, 240), 15.0)
    default = open_source(SourceSpec("Synthetic"))
    assert isinstance(default, SyntheticSource) and (default.size, default.fps) == ((640, 480), 30.0)


@pytest.mark.parametrize(
    "url", ["rtsp://cam.local/stream", "http://127.0.0.1:8080/stream.mjpg", "https://x/y.m3u8", "rtmp://h/app"]
)
def test_urls_are_streams(url: str) -> None:
    source = open_source(SourceSpec(url))
    assert isinstance(source, StreamSource) and source.live and source.url == url


@pytest.mark.shared
@pytest.mark.parametrize("url", ["ftp://nas/clip.mp4", "FTP://nas/x", "sftp://h/x", "gopher://h/"])
def test_a_scheme_no_camera_streams_over_is_refused_at_once(url: str) -> None:
    with pytest.raises(EdgeAppError, match=r"^\w+:// is not a stream edge-app can read; use rtsp, rtsps, .*file path$"):
        open_source(SourceSpec(url))


def test_a_folder_is_a_slideshow_whose_fps_is_photos_per_second() -> None:
    source = open_source(SourceSpec(str(IMAGES), fps=0.5, resolution=(320, 240)))
    assert isinstance(source, SlideshowSource)
    assert source.hold == 20 and source.size == (320, 240)  # 2 s per photo at 10 frames/s
    assert isinstance(open_source(SourceSpec(str(IMAGES))), SlideshowSource)


def test_anything_else_is_a_video_file(tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"")
    source = open_source(SourceSpec(str(clip)))
    assert isinstance(source, VideoFileSource) and not source.live and source.path == clip
    assert isinstance(open_source(SourceSpec(f"file://{clip}")), VideoFileSource)


def test_a_missing_path_or_empty_folder_fails_before_anything_loads(tmp_path: Path) -> None:
    with pytest.raises(EdgeAppError, match="no file or folder .*clip.mp4; check the path"):
        open_source(SourceSpec(str(tmp_path / "clip.mp4")))
    with pytest.raises(EdgeAppError, match="no images in"):
        open_source(SourceSpec(str(tmp_path)))


def test_a_typo_gets_a_did_you_mean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(EdgeAppError, match="^no file or folder synthetc; did you mean synthetic\\?$"):
        open_source(SourceSpec("synthetc"))
    (tmp_path / "clip.mp4").write_bytes(b"")
    with pytest.raises(EdgeAppError, match=f"did you mean {tmp_path}/clip.mp4\\?"):
        open_source(SourceSpec(str(tmp_path / "clip.mp5")))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(EdgeAppError, match="no file or folder clips.mp4; did you mean clip.mp4\\?"):
        open_source(SourceSpec("clips.mp4"))
    with pytest.raises(EdgeAppError) as unrelated:
        open_source(SourceSpec("holiday.mov"))
    assert "did you mean" not in str(unrelated.value)


def test_a_video_device_path_is_a_webcam() -> None:
    source = open_source(SourceSpec("/dev/video2", resolution=(1280, 720), fps=15.0))
    assert isinstance(source, OpenCVCamera)
    assert (source.index, source.resolution, source.requested_fps) == (2, (1280, 720), 15.0)


def test_a_bare_number_as_source_points_to_camera() -> None:
    with pytest.raises(EdgeAppError, match="use --camera 1"):
        open_source(SourceSpec("1"))


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (SourceSpec("  "), "the source is empty"),  # not the current folder as a slideshow
        (SourceSpec(backend="gstreamer"), "use auto, picamera2 or opencv"),  # type: ignore[arg-type]  # deliberately unknown
        (SourceSpec(-1), "negative"),
        (SourceSpec("synthetic", fps=0.0), "fps must be positive"),
        (SourceSpec("synthetic", fps=-5.0), "fps must be positive"),
    ],
)
def test_bad_specs_are_user_mistakes(spec: SourceSpec, message: str) -> None:
    with pytest.raises(EdgeAppError, match=message):
        open_source(spec)


def test_choose_backend() -> None:
    assert choose_backend("auto", csi=True) == "picamera2"
    assert choose_backend("auto", csi=False) == "opencv"
    assert choose_backend("opencv", csi=True) == "opencv"
    assert choose_backend("picamera2", csi=False) == "picamera2"


def test_default_is_camera_0_through_opencv_without_picamera2(no_picamera2: None) -> None:
    source = open_source(SourceSpec(resolution=(640, 480), fps=30.0))
    assert isinstance(source, OpenCVCamera) and source.index == 0 and source.resolution == (640, 480)


def test_auto_picks_picamera2_for_a_csi_camera(picamera2: ModuleType) -> None:
    source = open_source(SourceSpec(0, resolution=(1280, 720), fps=25.0))
    assert isinstance(source, PiCameraSource)
    assert (source.camera_num, source.resolution, source.requested_fps) == (0, (1280, 720), 25.0)
    assert isinstance(open_source(SourceSpec(1)), OpenCVCamera)  # libcamera lists no camera 1


def test_auto_leaves_usb_cameras_libcamera_lists_to_opencv(picamera2: ModuleType) -> None:
    picamera2.Picamera2.cameras_info = [
        {"Model": "HD Webcam C525", "Id": "/base/axi/pcie@120000/rp1/usb@200000-1:1.0-046d:0826"}
    ]
    assert isinstance(open_source(SourceSpec(0)), OpenCVCamera)


def test_an_explicit_backend_wins(picamera2: ModuleType) -> None:
    assert isinstance(open_source(SourceSpec(0, backend="opencv")), OpenCVCamera)
    assert isinstance(open_source(SourceSpec(5, backend="picamera2")), PiCameraSource)


def test_importing_the_factory_stays_light() -> None:
    """Settings and the CLI import the factory and orient; numpy, cv2 and picamera2 load only when a source is made."""
    code = (
        "import sys, edge_app.sources.factory, edge_app.sources.orient; print(sorted(m for m in ('cv2', "
        "'numpy', 'picamera2') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_resolution_beyond_a_pis_memory_is_warned_with_what_it_takes() -> None:
    from edge_app.sources.spec import memory_warning

    said = memory_warning((8192, 8192))
    assert said is not None and "67 megapixels" in said and "201 MB" in said and "4.0 GB" in said
    assert memory_warning((3840, 2160)) is None and memory_warning((640, 480)) is None and memory_warning(None) is None
