"""Reading photos: sizes from headers, huge photos decoded reduced or refused in one line, never a 2 GB decode."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge_app.errors import EdgeAppError
from edge_app.images import image_size, jpeg_decodes_whole, read_image, reduction
from tests.fakes.cli_run import assert_one_line_error, run_cli
from tests.helpers.declared_images import jpeg_declaring
from tests.helpers.pictures import imread
from tests.helpers.shared_data import IMAGES

ROOT = Path(__file__).resolve().parents[1]


def png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG that claims a size: the header is all that is read before refusing it."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )
    return path


@pytest.mark.parametrize(
    ("ext", "params"),
    [(".jpg", []), (".png", []), (".webp", [cv2.IMWRITE_WEBP_QUALITY, 80]), (".webp", [cv2.IMWRITE_WEBP_QUALITY, 101])],
    ids=["jpeg", "png", "webp", "webp-lossless"],
)
def test_the_size_comes_from_the_header(ext: str, params: list[int]) -> None:
    ok, encoded = cv2.imencode(ext, np.zeros((37, 53, 3), np.uint8), params)
    assert ok and image_size(encoded.tobytes()) == (53, 37)


def test_a_jpeg_frame_after_large_metadata_is_found() -> None:
    encoded = cv2.imencode(".jpg", np.zeros((37, 53, 3), np.uint8))[1].tobytes()
    app2 = b"\xff\xe2" + struct.pack(">H", 65000) + b"\xff\xc0" * 32499  # an ICC profile full of SOF-looking bytes
    assert image_size(encoded[:2] + app2 * 3 + encoded[2:]) == (53, 37)


def test_a_progressive_or_multi_scan_jpeg_is_known_to_decode_whole() -> None:
    baseline = jpeg_declaring(30000, 30000)
    assert image_size(baseline) == image_size(jpeg_declaring(30000, 30000, progressive=True)) == (30000, 30000)
    assert not jpeg_decodes_whole(baseline) and jpeg_decodes_whole(jpeg_declaring(30000, 30000, progressive=True))
    scan = baseline.index(b"\xff\xda")
    one_component = baseline[: scan + 4] + b"\x01" + baseline[scan + 5 :]  # a first scan of Y alone: more follow
    assert jpeg_decodes_whole(one_component)
    assert jpeg_decodes_whole(baseline[:scan])  # no scan to look at: the worst is assumed


def test_other_formats_and_false_headers_have_no_header_size() -> None:
    png = cv2.imencode(".png", np.zeros((37, 53, 3), np.uint8))[1].tobytes()
    false_png = png[:16] + struct.pack(">II", 20000, 20000) + png[24:]  # its CRC no longer matches
    assert image_size(b"P6\n53 37\n255\n") is None and image_size(b"") is None and image_size(false_png) is None


@pytest.mark.parametrize(
    ("size", "jpeg", "factor"),
    [
        ((4000, 3000), True, 1),
        ((4097, 10), True, 2),
        ((12000, 9000), True, 4),
        ((20000, 20000), True, 8),
        ((20000, 20000), False, 1),
    ],
)
def test_jpegs_are_reduced_to_a_few_thousand_pixels_a_side(size: tuple[int, int], jpeg: bool, factor: int) -> None:
    assert reduction(size, jpeg) == factor


@pytest.mark.parametrize(("width", "height"), [(20000, 20000), (40000, 40000), (70000, 10)])
def test_a_huge_png_is_refused_in_one_line_without_decoding(tmp_path: Path, width: int, height: int) -> None:
    path = png_header_only(tmp_path / "huge.png", width, height)
    with pytest.raises(EdgeAppError) as caught:
        read_image(path)
    assert str(caught.value).startswith(f"{path} is {width}x{height} pixels: too large to decode")


def test_classify_refuses_a_huge_png_in_one_line(
    model_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = png_header_only(tmp_path / "huge.png", 40000, 40000)
    assert_one_line_error(
        run_cli(capsys, "classify", "-m", "mobilenet_v1_0.25_128_quant", str(path)), "40000x40000 pixels: too large"
    )


# The child's own peak: VmHWM belongs to its address space, which exec starts afresh. (ru_maxrss
# does not: Linux carries the forking parent's high-water mark across exec, so pytest's size leaks in.)
PEAK_CHILD = """
import sys
from pathlib import Path

def peak_mb():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    raise SystemExit("no VmHWM")

from edge_app.images import read_image
before = peak_mb()
image = read_image(Path(sys.argv[1]))
print(image.shape[1], image.shape[0], peak_mb() - before)
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux's /proc/self/status (VmHWM)")
def test_a_huge_jpeg_is_decoded_reduced_in_a_fraction_of_the_memory(tmp_path: Path) -> None:
    path = tmp_path / "huge.jpg"
    ok, encoded = cv2.imencode(".jpg", np.zeros((20000, 20000, 3), np.uint8))  # untouched zero pages: cheap to make
    assert ok
    encoded.tofile(str(path))
    done = subprocess.run(
        [sys.executable, "-c", PEAK_CHILD, str(path)], capture_output=True, text=True, cwd=ROOT, timeout=120, check=True
    )
    width, height, decode_mb = map(int, done.stdout.split())
    assert (width, height) == (2500, 2500)
    # What the decode added to the peak, over the interpreter and its imports: a full decode needs
    # 1200 MB for the pixels alone (2.4 GB peak measured); the reduced one needs ~20 MB of pixels.
    assert decode_mb < 400


def test_a_large_jpeg_gets_the_same_label_as_the_photo_it_was_made_from(
    model_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photo = imread(IMAGES / "parrot.jpg")
    large = tmp_path / "parrot-large.jpg"
    cv2.imwrite(
        str(large), cv2.resize(photo, None, fx=10, fy=10, interpolation=cv2.INTER_LINEAR)
    )  # 5120x9290: read at 1/4
    assert read_image(large).shape[:2] == (2323, 1280)
    run = run_cli(
        capsys,
        "classify",
        "-m",
        "mobilenet_v2_1.0_224_quant",
        "--json",
        "-k",
        "1",
        str(IMAGES / "parrot.jpg"),
        str(large),
    )
    assert run.code == 0, run.err
    (original, reduced) = json.loads(run.out)
    assert original["top"][0]["label"] == reduced["top"][0]["label"] == "macaw"
    assert reduced["top"][0]["score"] == pytest.approx(original["top"][0]["score"], abs=0.05)
