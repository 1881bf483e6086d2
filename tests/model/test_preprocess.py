"""Frame -> input tensor: crop/squash/letterbox geometry, channel order, input quantization."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edge_app.frames import ChannelOrder
from edge_app.geometry import central_crop, letterbox, resize
from edge_app.model.catalog import load_catalog
from edge_app.model.classifier import Classifier, ModelOptions
from edge_app.model.preprocess import InputSpec, quantizer, to_rgb, to_tensor
from tests.helpers.shared_data import MODELS


def _ramp(h: int, w: int) -> np.ndarray:
    """A BGR image whose every pixel says where it came from: B = row, G = column, R = 7."""
    rows, cols = np.mgrid[0:h, 0:w]
    return np.dstack([rows % 256, cols % 256, np.full((h, w), 7)]).astype(np.uint8)


@pytest.mark.parametrize(
    ("h", "w", "box"),
    [
        (100, 200, (6, 12, 88, 175)),  # 87.5 % of each side, centred
        (224, 224, (14, 14, 196, 196)),
        (480, 640, (30, 40, 420, 560)),
        (8, 8, (0, 0, 7, 7)),
    ],
)
def test_central_crop_keeps_the_centre_87_5_percent(h: int, w: int, box: tuple[int, int, int, int]) -> None:
    image = _ramp(h, w)
    y, x, ch, cw = box
    crop = central_crop(image)
    assert crop.shape == (ch, cw, 3)
    assert np.array_equal(crop, image[y : y + ch, x : x + cw])
    assert np.shares_memory(crop, image), "the crop must be a view; only the resize touches pixels"


def test_crop_then_resize_matches_cv2_on_the_cropped_region() -> None:
    import cv2

    image = _ramp(300, 400)
    out = resize(image, 224, 224, "crop")
    expected = cv2.resize(image[19:281, 25:375], (224, 224), interpolation=cv2.INTER_LINEAR_EXACT)
    assert out.shape == (224, 224, 3)
    assert np.array_equal(out, expected)


def test_squash_keeps_the_whole_frame() -> None:
    image = np.zeros((100, 300, 3), np.uint8)
    image[:5, :5] = 255  # a corner a crop would cut away
    out = resize(image, 224, 224, "squash")
    assert out.shape == (224, 224, 3)
    assert out[0, 0].max() == 255
    cropped = resize(image, 224, 224, "crop")
    assert cropped[0, 0].max() == 0


def test_resize_skips_work_when_already_the_right_size() -> None:
    image = _ramp(224, 224)
    assert resize(image, 224, 224, "squash") is image


@pytest.mark.parametrize(("h", "w", "pad_axis"), [(100, 200, 0), (200, 100, 1)])
def test_letterbox_fits_the_whole_image_with_black_bars(h: int, w: int, pad_axis: int) -> None:
    image = np.full((h, w, 3), 200, np.uint8)
    out = letterbox(image, 224, 224)
    assert out.shape == (224, 224, 3)
    profile = out.max(axis=(1, 2)) if pad_axis == 0 else out.max(axis=(0, 2))
    content = np.flatnonzero(profile)
    assert content.size == 112 and content[0] == 56, "a 2:1 image fills half the square, centred"
    assert profile[:56].max() == 0 and profile[168:].max() == 0


@pytest.mark.parametrize("shape", [(120, 160, 4), (120, 160)])
def test_letterbox_keeps_4_channel_and_grey_frames_convertible(shape: tuple[int, ...]) -> None:
    """picamera2's XRGB8888 frames have 4 channels; grey frames have none. Both must letterbox."""
    image = np.full(shape, 90, np.uint8)
    tensor = to_tensor(image, InputSpec(96, 96, np.dtype(np.uint8)), "rgb" if len(shape) == 3 else "bgr", "letterbox")
    assert tensor.shape == (1, 96, 96, 3)
    assert tensor[0, 48, 48].tolist() == [90, 90, 90]
    assert tensor[0, 0, 0].tolist() == [0, 0, 0]


def test_to_rgb_swaps_bgr_and_leaves_rgb() -> None:
    bgr = np.array([[[1, 2, 3]]], np.uint8)
    assert to_rgb(bgr, "bgr").tolist() == [[[3, 2, 1]]]
    assert to_rgb(bgr, "rgb").tolist() == [[[1, 2, 3]]]
    assert to_rgb(np.array([[[1, 2, 3, 4]]], np.uint8), "bgr").tolist() == [[[3, 2, 1]]]
    assert to_rgb(np.array([[9]], np.uint8), "bgr").tolist() == [[[9, 9, 9]]]


def test_to_tensor_is_always_rgb_whatever_the_frame_order() -> None:
    spec = InputSpec(4, 4, np.dtype(np.uint8), 1 / 128, 128)
    bgr = np.zeros((4, 4, 3), np.uint8)
    bgr[..., 0] = 255  # pure blue in OpenCV's order
    rgb = bgr[..., ::-1].copy()
    cases: tuple[tuple[np.ndarray, ChannelOrder], ...] = ((bgr, "bgr"), (rgb, "rgb"))
    for image, order in cases:
        tensor = to_tensor(image, spec, order, "squash", quantizer(spec))
        assert tensor.shape == (1, 4, 4, 3) and tensor.dtype == np.uint8
        assert tensor[0, 0, 0].tolist() == [0, 0, 255], order
        assert tensor.flags.c_contiguous


# --- input quantization -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scale", "zero_point"),
    [(1 / 128, 128), (0.0078431377, 127)],  # mobilenet_v2_1.0_224_quant, tf2_mobilenet_v2_1.0_224_ptq
    ids=["v2_quant", "tf2_ptq"],
)
def test_catalog_uint8_inputs_take_raw_bytes(scale: float, zero_point: int) -> None:
    """Their quantization already encodes (pixel - 127.5) / 127.5: no per-pixel work at all."""
    assert quantizer(InputSpec(224, 224, np.dtype(np.uint8), scale, zero_point)) is None


@pytest.mark.parametrize(
    "model", sorted(name for name, entry in load_catalog().items() if (MODELS / entry.file).exists())
)
def test_every_catalog_model_in_shared_takes_the_fast_path(model_cache: Path, model: str) -> None:
    """Read from each model's own input tensor: no lookup table, the resized bytes go straight in."""
    spec = Classifier.open(ModelOptions(model=model, delegate="cpu", threads=1)).spec
    assert spec.dtype == np.uint8
    assert quantizer(spec) is None, f"{model}: scale {spec.scale}, zero point {spec.zero_point}"


def test_uint8_input_with_other_parameters_is_requantized() -> None:
    spec = InputSpec(2, 2, np.dtype(np.uint8), 1 / 64, 128)  # represents [-2, 2): [-1, 1] lands in the middle half
    lut = quantizer(spec)
    assert lut is not None and lut.dtype == np.uint8 and lut.shape == (256,)
    expected = np.clip(np.round((np.arange(256) - 127.5) / 127.5 * 64 + 128), 0, 255)
    assert np.array_equal(lut, expected)
    assert (int(lut[0]), int(lut[128]), int(lut[255])) == (64, 128, 192)


@pytest.mark.parametrize(("scale", "zero_point"), [(1 / 128, 0), (0.0078431377, -1)])
def test_int8_input_is_the_byte_shifted_by_128(scale: float, zero_point: int) -> None:
    lut = quantizer(InputSpec(2, 2, np.dtype(np.int8), scale, zero_point))
    assert lut is not None and lut.dtype == np.int8
    assert np.array_equal(lut.astype(int), np.arange(256) - 128)


def test_int8_input_with_other_parameters_is_requantized() -> None:
    lut = quantizer(InputSpec(2, 2, np.dtype(np.int8), 1 / 32, 0))
    assert lut is not None
    assert lut[0] == -32 and lut[255] == 32 and abs(int(lut[128])) <= 1


def test_float_input_is_normalised_to_minus_one_one() -> None:
    lut = quantizer(InputSpec(2, 2, np.dtype(np.float32)))
    assert lut is not None and lut.dtype == np.float32
    assert lut[0] == pytest.approx(-1.0) and lut[255] == pytest.approx(1.0)
    image = np.array([[[0, 255, 0]]], np.uint8)  # pure green, RGB
    tensor = to_tensor(image, InputSpec(1, 1, np.dtype(np.float32)), "rgb", "squash", lut)
    assert tensor.dtype == np.float32
    assert tensor[0, 0, 0].tolist() == pytest.approx([-1.0, 1.0, -1.0])
