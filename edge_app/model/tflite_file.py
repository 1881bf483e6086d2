"""Telling a file that is no model at all from a damaged model, by its first bytes: every TFLite
flatbuffer carries the identifier TFL3 at offset 4, so a label file or a web page given as a model
needs other advice than a truncated download does."""

from __future__ import annotations

from edge_app.errors import EdgeAppError

IDENTIFIER = b"TFL3"
HEAD = 64  # bytes enough to tell


def _is_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:  # only a character cut off at the end of the head is fine
        return exc.reason == "unexpected end of data"
    return b"\0" not in head


def not_a_model(source: str, head: bytes) -> EdgeAppError | None:
    """The error for bytes that cannot be a TFLite model; None when they may be one, or a cut one
    (shorter than the identifier's end: an empty or interrupted download)."""
    if len(head) < 8 or head[4:8] == IDENTIFIER:
        return None
    if _is_text(head):
        return EdgeAppError(
            f"{source} is not a TFLite model at all (it is text)",
            "a label file goes to --labels; give --model a .tflite file or a catalog name (edge-app models list)",
        )
    return EdgeAppError(
        f"{source} is not a TFLite model at all (it lacks the TFL3 mark every .tflite file has)",
        "give a .tflite file or a catalog name (edge-app models list)",
    )
