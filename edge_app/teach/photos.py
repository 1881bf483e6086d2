"""Photos as teaching takes them: JPEG or PNG, no larger than an example needs (the model sees
224 pixels of it), decoded reduced and within the process's pixel budget, with a thumbnail made
once when it is added."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from edge_app.errors import EdgeAppError
from edge_app.images import decode_image as _decode
from edge_app.images import image_size
from edge_app.pixel_budget import DECODING, OverBudget, PixelBudget
from edge_app.teach.errors import Busy, Invalid, TooLarge, Unsupported

MAX_PHOTO = 8 * 1024 * 1024  # bytes: a 16-megapixel phone JPEG fits; larger is refused, unread
MAX_MEGAPIXELS = 16  # decoded; a JPEG counts after its reduction
KEEP_SIDE = 448  # JPEGs are decoded reduced while their shorter side stays at least this (2 x 224)
THUMBNAIL = 96  # pixels, the longer side


def photo_suffix(photo: bytes) -> str:
    if photo.startswith(b"\xff\xd8\xff"):
        return ".jpg"
    if photo.startswith(b"\x89PNG\r\n\x1a\n"):
        return ".png"
    raise Unsupported(
        "the body is not a JPEG or PNG photo", "send image/jpeg or image/png, or an empty body for the current frame"
    )


def reduction_for(size: tuple[int, int], jpeg: bool, keep_side: int = KEEP_SIDE) -> int:
    """The largest JPEG scale denominator (1, 2, 4, 8) that keeps the shorter side at `keep_side`
    or more; 1 for a PNG (libpng decodes whole)."""
    if not jpeg:
        return 1
    return next((factor for factor in (8, 4, 2) if min(size) // factor >= keep_side), 1)


def decode_example(
    photo: bytes, keep_side: int = KEEP_SIDE, name: str = "the photo", budget: PixelBudget | None = None
) -> np.ndarray:
    """A JPEG or PNG photo as HxWx3 BGR, reduced; refused unread beyond MAX_MEGAPIXELS decoded,
    and refused for now (Busy) while the process decodes too much already."""
    suffix = photo_suffix(photo)
    size = image_size(photo)
    if size is None or min(size) < 1:
        raise Invalid(f"{name} has no readable {suffix[1:].upper()} header", "send a complete JPEG or PNG photo")
    factor = reduction_for(size, suffix == ".jpg", keep_side)
    pixels = -(-size[0] // factor) * -(-size[1] // factor)
    if pixels > MAX_MEGAPIXELS * 1_000_000:
        reduced = " after decoding it reduced" if suffix == ".jpg" else ""
        raise TooLarge(
            f"{name} is {size[0]}x{size[1]} pixels, more than a teaching example needs"
            f" (at most {MAX_MEGAPIXELS} megapixels{reduced})",
            "scale it down (the model looks at 224x224 pixels of it)",
        )
    try:
        with (budget or DECODING).hold(pixels):
            return _decode(np.frombuffer(photo, np.uint8), Path(f"{name}{suffix}"), factor)
    except OverBudget as exc:
        raise Busy(exc.message, exc.hint, exc.retry_after) from None
    except EdgeAppError as exc:
        raise Invalid(exc.message, "send a complete JPEG or PNG photo") from None


def thumbnail(image: np.ndarray) -> bytes:
    """A small JPEG of `image` (BGR), THUMBNAIL pixels on its longer side."""
    scale = THUMBNAIL / max(image.shape[:2])
    if scale < 1:
        image = cv2.resize(
            image,
            (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale))),
            interpolation=cv2.INTER_AREA,
        )
    return cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes()
