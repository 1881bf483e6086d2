"""Photos as teaching takes them: refused unread beyond what an example needs, decoded reduced,
and decoded within a process-wide pixel budget."""

from __future__ import annotations

import threading

import cv2
import numpy as np
import pytest

from edge_app.pixel_budget import OverBudget, PixelBudget
from edge_app.teach import errors
from edge_app.teach.photos import MAX_MEGAPIXELS, decode_example, reduction_for, thumbnail
from tests.helpers.declared_images import jpeg_declaring, png_declaring
from tests.helpers.pictures import imdecode


def _never_decoded(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object) -> None:
        raise AssertionError("decoded")

    monkeypatch.setattr(cv2, "imdecode", refuse)


@pytest.mark.parametrize(
    "photo",
    [png_declaring(9999, 9999, rows=1), jpeg_declaring(65000, 65000), jpeg_declaring(8000, 8000, progressive=True)],
    ids=["png", "jpeg", "progressive"],  # a progressive JPEG's coefficients are all held, however reduced
)
def test_a_photo_beyond_an_example_is_refused_unread(photo: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    _never_decoded(monkeypatch)
    with pytest.raises(errors.TooLarge, match=f"at most {MAX_MEGAPIXELS} megapixels"):
        decode_example(photo)


def test_a_big_jpeg_is_decoded_reduced_and_a_small_one_whole() -> None:
    big = cv2.imencode(".jpg", np.full((3000, 4000, 3), 90, np.uint8))[1].tobytes()
    assert decode_example(big).shape == (750, 1000, 3)  # 1/4: the shorter side stays >= 448
    small = cv2.imencode(".jpg", np.full((480, 640, 3), 90, np.uint8))[1].tobytes()
    assert decode_example(small).shape == (480, 640, 3)
    assert reduction_for((4000, 3000), jpeg=False) == 1 and reduction_for((8000, 6000), jpeg=True) == 8


def test_no_header_or_no_photo_is_a_clear_refusal() -> None:
    with pytest.raises(errors.Unsupported):
        decode_example(b"GIF89a...")
    with pytest.raises(errors.Invalid, match="no readable PNG header"):
        decode_example(b"\x89PNG\r\n\x1a\n" + b"\x00" * 30)
    with pytest.raises(errors.Invalid):
        decode_example(png_declaring(64, 64, rows=0)[:-12])  # header fine, pixels missing


def test_the_budget_refuses_what_does_not_fit_and_frees_on_exit() -> None:
    budget = PixelBudget(megapixels=10, wait_s=0.0)
    with budget.hold(6_000_000):
        with budget.hold(4_000_000):
            assert budget.in_use == 10_000_000
        with pytest.raises(OverBudget) as caught:
            with budget.hold(5_000_000):
                pass
        assert caught.value.retry_after >= 1 and "6 of 10 megapixels" in caught.value.message
    assert budget.in_use == 0
    with budget.hold(10_000_000):  # the whole budget once nobody else decodes
        pass


def test_a_decode_waits_for_room_before_it_is_refused() -> None:
    budget = PixelBudget(megapixels=1, wait_s=30.0)
    held, go = threading.Event(), threading.Event()

    def other() -> None:
        with budget.hold(1_000_000):
            held.set()
            go.wait(30)

    thread = threading.Thread(target=other)
    thread.start()
    assert held.wait(30)
    got: list[int] = []
    waiter = threading.Thread(target=lambda: got.append(_hold(budget)))
    waiter.start()
    go.set()  # the other decode ends: the waiter gets its room
    thread.join(30)
    waiter.join(30)
    assert got == [1_000_000] and budget.in_use == 0


def _hold(budget: PixelBudget) -> int:
    with budget.hold(1_000_000):
        return budget.in_use


def test_busy_when_the_process_decodes_too_much(monkeypatch: pytest.MonkeyPatch) -> None:
    budget = PixelBudget(megapixels=1, wait_s=0.0)
    photo = cv2.imencode(".jpg", np.full((600, 800, 3), 90, np.uint8))[1].tobytes()
    with budget.hold(1_000_000), pytest.raises(errors.Busy):
        decode_example(photo, budget=budget)
    assert decode_example(photo, budget=budget).shape == (600, 800, 3)


def test_a_thumbnail_is_small() -> None:
    small = imdecode(thumbnail(np.zeros((750, 1000, 3), np.uint8)))
    assert small.shape == (72, 96, 3)
