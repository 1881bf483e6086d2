"""Photos that are small as files and huge as pixels, as a hostile upload makes them: a PNG whose
header declares WxH (with every row there, zlib squeezes 300 MB of black into ~300 KB), and a
JPEG of a few hundred bytes whose frame header claims WxH."""

from __future__ import annotations

import struct
import zlib

import cv2
import numpy as np


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_declaring(width: int, height: int, rows: int | None = None) -> bytes:
    """An 8-bit RGB PNG of width x height, black; `rows` given, only that many rows of data follow
    (the header alone is what a size check reads)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    squeeze = zlib.compressobj(9)
    row = b"\x00" * (1 + 3 * width)
    body = b"".join(squeeze.compress(row) for _ in range(height if rows is None else rows)) + squeeze.flush()
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", body) + _chunk(b"IEND", b"")


def jpeg_declaring(width: int, height: int, progressive: bool = False) -> bytes:
    """A 16x16 baseline (or progressive) JPEG whose start-of-frame is rewritten to claim width x height."""
    params = [cv2.IMWRITE_JPEG_PROGRESSIVE, 1] if progressive else []
    small = bytearray(cv2.imencode(".jpg", np.zeros((16, 16, 3), np.uint8), params)[1].tobytes())
    at = small.index(b"\xff\xc2" if progressive else b"\xff\xc0")
    struct.pack_into(">HH", small, at + 5, height, width)
    return bytes(small)
