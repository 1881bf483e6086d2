"""Motion on generated frames: noise and slow light never move; a moving square moves only its box."""

from __future__ import annotations

import numpy as np
import pytest

from edge_app.regions.motion import MotionDetector, MotionMap, MotionOptions
from edge_app.regions.spec import Box

FPS = 30.0
HEIGHT, WIDTH = 240, 320
LEFT = Box(0.05, 0.1, 0.45, 0.9)
RIGHT = Box(0.55, 0.1, 0.95, 0.9)


def scene(rng: np.random.Generator) -> np.ndarray:
    """A still background with texture: gradients and some blocks (float, 0-255)."""
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    base = 60 + 80 * (x / WIDTH) + 40 * np.sin(y / 37.0)
    for _ in range(12):
        x0, y0 = rng.integers(0, WIDTH - 40), rng.integers(0, HEIGHT - 40)
        base[y0 : y0 + 30, x0 : x0 + 35] += rng.uniform(-40, 40)
    return np.stack([base, base * 0.9 + 10, base * 1.1 - 5], axis=2)


def noisy(image: np.ndarray, rng: np.random.Generator, sigma: float = 6.0) -> np.ndarray:
    return np.clip(image + rng.normal(0, sigma, image.shape), 0, 255).astype(np.uint8)


def run(frames: list[np.ndarray], detector: MotionDetector | None = None) -> list[MotionMap]:
    detector = detector or MotionDetector()
    return [detector.update(frame, i / FPS) for i, frame in enumerate(frames)]


def test_the_first_frame_is_still() -> None:
    rng = np.random.default_rng(1)
    motion = MotionDetector().update(noisy(scene(rng), rng), 0.0)
    assert not motion.any and motion.fraction(Box(0, 0, 1, 1)) == 0.0


def test_sensor_noise_alone_never_moves() -> None:
    rng = np.random.default_rng(2)
    still = scene(rng)
    maps = run([noisy(still, rng, sigma=8.0) for _ in range(300)])
    assert not any(m.moving(LEFT) or m.moving(RIGHT) or m.moving(Box(0, 0, 1, 1)) for m in maps)


def test_a_slow_brightness_ramp_never_moves() -> None:
    """30 % darker over 20 s (dusk, a cloud), with noise, and back up again."""
    rng = np.random.default_rng(3)
    still = scene(rng)
    steps = 600
    gains = np.concatenate([np.linspace(1.0, 0.7, steps), np.linspace(0.7, 1.0, steps)])
    maps = run([noisy(still * g, rng) for g in gains])
    assert not any(m.moving(Box(0, 0, 1, 1)) for m in maps)


def test_a_quick_exposure_step_does_not_move() -> None:
    """Auto-exposure jumping 15 % in one frame is normalised away, not motion."""
    rng = np.random.default_rng(4)
    still = scene(rng)
    frames = [noisy(still, rng) for _ in range(30)] + [noisy(still * 1.15, rng) for _ in range(30)]
    assert not any(m.moving(Box(0, 0, 1, 1)) for m in run(frames))


def test_a_moving_square_moves_only_its_box() -> None:
    rng = np.random.default_rng(5)
    still = scene(rng)
    frames = [noisy(still, rng) for _ in range(30)]
    for step in range(60):  # a bright square crossing the left box, top to bottom
        image = still.copy()
        top = 40 + step * 2
        image[top : top + 30, 40:80] = 240
        frames.append(noisy(image, rng))
    maps = run(frames)
    assert not any(m.moving(LEFT) for m in maps[:30])
    assert all(m.moving(LEFT) for m in maps[31:])
    assert not any(m.moving(RIGHT) for m in maps)
    assert max(m.fraction(LEFT) for m in maps) > 0.02


def test_a_change_that_stays_is_absorbed() -> None:
    """A door that opened and stays open stops being motion within a second (30 frames), not for
    as long as the slow background would take to follow it."""
    rng = np.random.default_rng(6)
    still = scene(rng)
    opened = still.copy()
    opened[50:150, 50:125] = 20
    maps = run([noisy(still, rng) for _ in range(30)] + [noisy(opened, rng) for _ in range(300)])
    assert maps[31].moving(LEFT)
    assert not any(m.moving(LEFT) for m in maps[30 + 30 :])


def test_the_channel_order_does_not_matter_and_grey_works() -> None:
    rng = np.random.default_rng(7)
    still = noisy(scene(rng), rng)
    moved = still.copy()
    moved[50:100, 50:100] = 255
    for convert in (lambda a: a, lambda a: np.ascontiguousarray(a[..., ::-1]), lambda a: a[..., 0]):
        detector = MotionDetector()
        detector.update(convert(still), 0.0)
        assert detector.update(convert(moved), 0.1).moving(LEFT)


def test_time_going_back_or_a_new_size_starts_again() -> None:
    rng = np.random.default_rng(8)
    still = noisy(scene(rng), rng)
    other = np.full_like(still, 200)
    detector = MotionDetector()
    detector.update(still, 10.0)
    assert not detector.update(other, 5.0).any  # another file in batch mode: a new background
    assert not detector.update(still[:120, :160], 6.0).any


@pytest.mark.parametrize("width", [16, 96, 200])
def test_tiny_boxes_and_small_images(width: int) -> None:
    detector = MotionDetector(MotionOptions(width=width))
    still = np.full((120, 160, 3), 100, np.uint8)
    moved = still.copy()
    moved[:, :80] = 250
    detector.update(still, 0.0)
    motion = detector.update(moved, 0.1)
    assert motion.moving(Box(0.0, 0.0, 0.2, 0.2))
    assert not motion.moving(Box(0.8, 0.8, 0.81, 0.81))


def test_a_panning_background_around_a_still_box_does_not_wake_it() -> None:
    """The rest of the frame pans (a camera's view of a busy street); the box's content stays."""
    rng = np.random.default_rng(9)
    wide = np.concatenate([scene(rng), scene(rng)[:, ::-1]], axis=1)
    inside = scene(rng)[40:200, 20:150]
    frames = []
    for step in range(90):
        image = wide[:, step * 3 : step * 3 + WIDTH].copy()
        image[48:208, 16:146] = inside  # LEFT's pixels: 16..144 x 24..216
        frames.append(noisy(image, rng))
    maps = run(frames)
    assert all(m.moving(RIGHT) for m in maps[1:])
    assert not any(m.moving(Box(0.05, 0.2, 0.45, 0.86)) for m in maps)
