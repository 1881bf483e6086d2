"""Issue 18's check on a generated scene, at the level of the region modules with the real model:
two regions whose photos change on their own schedules while the rest of the frame pans and
switches. Verified states match the truth frame by frame outside a short window after each true
change; a new photo of the same class changes no state; and while nothing moves inside a region
it does not run. (test_region_check.py does the same over a video file with a trained and a
taught model.)"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from edge_app.frames import Frame
from edge_app.model.classifier import Classifier
from edge_app.model.options import ModelOptions
from edge_app.regions.spec import Box, RegionSpec
from tests.helpers.pictures import imread
from tests.helpers.region_scenes import Scene, Track, judge, schedule, watch
from tests.helpers.shared_data import IMAGES

pytestmark = [pytest.mark.shared, pytest.mark.slow]
WINDOW_S = 1.0  # after a true change the state may lag this long (motion, then `confirm` runs)
IDLE_S = WINDOW_S + 0.5  # a region may still run this long after its photo changed


def mirrored(tmp_path: Path, name: str) -> Path:
    """Another photo of the same thing: the class stays, the pixels change."""
    out = tmp_path / f"mirrored-{Path(name).stem}.png"
    cv2.imwrite(str(out), imread(IMAGES / name)[:, ::-1])
    return out


def test_two_regions_on_a_panning_scene(model_cache: Path, tmp_path: Path) -> None:
    classifier = Classifier.open(ModelOptions(model="mobilenet_v2_1.0_224_quant", threads=1))
    parrot, mirrored_parrot, hot_dog = IMAGES / "parrot.jpg", mirrored(tmp_path, "parrot.jpg"), IMAGES / "hot_dog.jpg"
    owl, cat = IMAGES / "owl.jpg", IMAGES / "cat.bmp"
    feeder = Track(
        "feeder",
        Box(0.05, 0.08, 0.45, 0.62),
        schedule([(parrot, "parrot"), (mirrored_parrot, "parrot"), (hot_dog, "hot dog")], [5, 5, 7, 4, 6, 5, 100]),
    )
    porch = Track("porch", Box(0.55, 0.45, 0.95, 0.92), schedule([(owl, "owl"), (cat, "cat")], [8, 9, 6, 100]))
    scene = Scene([feeder, porch], [IMAGES / "grace_hopper.bmp", IMAGES / "sunflower.bmp"], 10.0, 32.0, 40.0, 11.0)
    specs = [RegionSpec(t.name, t.box, on_motion=True, confirm=3, threshold=0.3) for t in scene.tracks]

    def top(image: np.ndarray) -> tuple[str, float]:
        best = classifier.classify_frame(Frame(image, 0)).top[0]
        return best.label, best.score

    # what the model calls each photo, alone: the truth's names in the model's words
    words: dict[str, str] = {}
    for track in scene.tracks:
        for change in track.changes:
            label = top(imread(change.photo))[0]
            assert words.setdefault(change.label, label) == label, change

    watched = watch(scene.timed(), specs, lambda region, crop: top(crop))
    for track in scene.tracks:
        verdict = judge(scene, watched, track, words, WINDOW_S, IDLE_S)
        assert not verdict.wrong, (track.name, verdict.wrong[:5])
        # one verified change per true class change (the first state included), none for a new photo alone
        assert verdict.changes == verdict.expected_changes, (track.name, watched.changes[track.name])
        assert not verdict.idle_runs, (track.name, verdict.idle_runs[:5])
        assert verdict.share_run < 0.2, (track.name, verdict.share_run)  # a moment after each photo change
