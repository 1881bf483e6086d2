"""Reading image files into BGR arrays, with one clear error for anything unreadable.

A photo's size is read from its header before it is decoded: a 20000x20000 PNG of 1 MB would
otherwise take 2.4 GB to decode, more than a 2 GB Pi has. JPEGs are decoded reduced (libjpeg
scales by 1/2, 1/4 or 1/8 while decoding) to at most MAX_SIDE a side; the model looks at 224
pixels, and a uniform scale keeps the central crop on the same region. Other formats decode at
full size, so beyond MAX_DECODED_PIXELS they are refused.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from edge_app.errors import EdgeAppError

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif", ".ppm", ".pgm"})
MAX_SIDE = 4096  # JPEGs larger than this are decoded reduced
MAX_DECODED_PIXELS = 100_000_000  # ~300 MB decoded: beyond it, refused
MAX_HEADER_SIDE = 65535  # the most a JPEG can have; anything claiming more is refused unread
_REDUCED = {
    1: cv2.IMREAD_COLOR,
    2: cv2.IMREAD_REDUCED_COLOR_2,
    4: cv2.IMREAD_REDUCED_COLOR_4,
    8: cv2.IMREAD_REDUCED_COLOR_8,
}
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}  # start-of-frame markers (not DHT, JPG, DAC)


def is_image_name(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def walk(folder: Path) -> Iterator[Path]:
    """Every file under `folder`, sorted, following linked folders; hidden files and folders
    (.git, .DS_Store, macOS ._ files) are not data and are passed over."""
    for root, dirs, files in os.walk(folder, followlinks=True):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        yield from (Path(root) / name for name in sorted(files) if not name.startswith("."))


def _jpeg_size(data: bytes | memoryview) -> tuple[int, int] | None:
    """Walk the marker segments to the first start-of-frame (an EXIF thumbnail inside APP1 is skipped whole)."""
    at = 2
    while at + 9 <= len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in _JPEG_SOF:
            height, width = struct.unpack_from(">HH", data, at + 5)
            return width, height
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # markers without a length
            at += 2
            continue
        at += 2 + struct.unpack_from(">H", data, at + 2)[0]
    return None


def _webp_size(data: bytes | memoryview) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8X" and len(data) >= 30:
        return 1 + int.from_bytes(data[24:27], "little"), 1 + int.from_bytes(data[27:30], "little")
    if chunk == b"VP8 " and len(data) >= 30:
        width, height = struct.unpack_from("<HH", data, 26)
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25:
        bits = int.from_bytes(data[21:25], "little")
        return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
    return None


def image_size(data: bytes | memoryview) -> tuple[int, int] | None:
    """(width, height) from a JPEG, PNG or WebP header, the compressed formats whose size may be far
    beyond their file's; None for others (BMP and PPM take about their file size; OpenCV's own
    pixel limit stops the rest)."""
    if data[:2] == b"\xff\xd8":
        return _jpeg_size(data)
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR" and len(data) >= 33:
        if zlib.crc32(data[12:29]) != struct.unpack_from(">I", data, 29)[0]:
            return None  # not a real header: the decoder will say the file is unreadable
        return struct.unpack_from(">II", data, 16)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp_size(data)
    return None


def reduction(size: tuple[int, int], jpeg: bool) -> int:
    """The JPEG scale denominator that brings the longer side to MAX_SIDE or below (at most 8)."""
    if not jpeg:
        return 1
    return next((factor for factor in (1, 2, 4) if max(size) <= MAX_SIDE * factor), 8)


def check_size(path: Path, size: tuple[int, int], factor: int) -> None:
    """Refuse what cannot be decoded within memory, before decoding it."""
    width, height = size
    decoded = -(-width // factor) * -(-height // factor)
    if max(size) > MAX_HEADER_SIDE or decoded > MAX_DECODED_PIXELS:
        hint = "scale it down" + ("" if factor > 1 else ", or save it as JPEG (read reduced)")
        raise EdgeAppError(
            f"{path} is {width}x{height} pixels: too large to decode (the limit is "
            f"{MAX_DECODED_PIXELS // 1_000_000} megapixels decoded)",
            hint,
        )


def read_bytes(path: Path) -> np.ndarray:
    """The file's bytes (uint8), for decoding and for hashing its content."""
    try:
        return np.fromfile(str(path), dtype=np.uint8)
    except OSError as exc:
        raise EdgeAppError(f"cannot read image {path} ({exc.strerror or exc})", "check the path") from None


def decode_image(data: np.ndarray, path: Path, factor: int | None = None) -> np.ndarray:
    """Encoded image bytes -> HxWx3 BGR uint8, large JPEGs reduced (by `factor`, one of 1, 2, 4 or
    8, when given: the caller read the size already); `path` names the file in errors."""
    view = data.data  # the header parsers read it in place: a JPEG's frame may follow big metadata
    size = image_size(view) if data.size and factor is None else None
    if size is not None:
        factor = reduction(size, jpeg=view[:2] == b"\xff\xd8")
        check_size(path, size, factor)
    factor = factor or 1
    try:
        image = cv2.imdecode(data, _REDUCED[factor]) if data.size else None
    except cv2.error as exc:  # e.g. beyond OpenCV's own pixel limit, in a format whose header we do not read
        raise EdgeAppError(
            f"{path} cannot be decoded ({str(exc).strip().splitlines()[-1]})",
            "use a JPEG, PNG, BMP or WebP file of sensible size",
        ) from None
    if image is None:
        raise EdgeAppError(f"{path} is not a readable image", "use a JPEG, PNG, BMP or WebP file")
    return image


def read_image(path: Path) -> np.ndarray:
    """The image as HxWx3 BGR uint8 (OpenCV's order; callers pass order="bgr")."""
    return decode_image(read_bytes(path), path)
