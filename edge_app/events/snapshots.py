"""An event's pictures: the whole frame with the region's box and new state drawn on it, and the
clean crop of the region (what a reviewer or the teacher wants). Pure: arrays in, JPEG bytes out."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from edge_app.regions.spec import Box

QUALITY = 88
THUMBNAIL = 160  # pixels, the longer side
BOX_COLOUR = (0, 200, 255)  # BGR: amber, visible on day and night scenes


@dataclass(frozen=True)
class Snapshot:
    full: bytes  # JPEG, the box drawn
    crop: bytes  # JPEG, the region alone


def encode_jpeg(image: np.ndarray, quality: int = QUALITY) -> bytes:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("the image could not be encoded as JPEG")
    return data.tobytes()


def crop(image: np.ndarray, box: Box | None) -> np.ndarray:
    if box is None or box.whole:
        return image
    left, top, right, bottom = box.pixels(image.shape[1], image.shape[0])
    return image[top:bottom, left:right]


def draw_box(image: np.ndarray, box: Box | None, caption: str) -> np.ndarray:
    """A copy of `image` with the box outlined and `caption` above it (inside, at the top edge)."""
    drawn = image.copy()
    height, width = drawn.shape[:2]
    left, top, right, bottom = (box or Box(0, 0, 1, 1)).pixels(width, height)
    thickness = max(2, round(min(width, height) / 240))
    cv2.rectangle(drawn, (left, top), (right - 1, bottom - 1), BOX_COLOUR, thickness)
    if caption:
        scale = max(0.4, min(width, height) / 600)
        (text_w, text_h), base = cv2.getTextSize(caption, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        y = top - base - 2 if top - text_h - base - 4 >= 0 else top + text_h + thickness + 2
        x = min(max(0, left), max(0, width - text_w))
        cv2.rectangle(drawn, (x, y - text_h - 2), (x + text_w + 4, y + base), BOX_COLOUR, cv2.FILLED)
        cv2.putText(drawn, caption, (x + 2, y), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 1, cv2.LINE_AA)
    return drawn


def snapshot(image: np.ndarray, box: Box | None, caption: str) -> Snapshot:
    """`image` is the frame in BGR."""
    return Snapshot(encode_jpeg(draw_box(image, box, caption)), encode_jpeg(crop(image, box)))


def thumbnail(image: np.ndarray, side: int = THUMBNAIL) -> np.ndarray:
    scale = side / max(image.shape[:2])
    if scale >= 1:
        return image
    size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)
