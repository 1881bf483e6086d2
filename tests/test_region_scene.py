"""Issue 18's check on a generated video, at the level of the region modules with the real model:
two regions whose photos change on their own schedules while the rest of the frame pans and
switches. Verified states match the truth frame by frame outside a short window after each true
change; a new photo of the same class changes no state; and while nothing moves inside a region
it does not run."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest
from region_scenes import Scene, Track, schedule
from shared_data import IMAGES

from edge_app.frames import Frame
from edge_app.model.classifier import Classifier
from edge_app.model.options import ModelOptions
from edge_app.regions.confirm import Confirmer
from edge_app.regions.gates import gate_for
from edge_app.regions.motion import MotionDetector
from edge_app.regions.spec import Box, RegionSpec

pytestmark = [pytest.mark.shared, pytest.mark.slow]
WINDOW_S = 1.0  # after a true change the state may lag this long (motion, then `confirm` runs)


def mirrored(tmp_path: Path, name: str) -> Path:
    """Another photo of the same thing: the class stays, the pixels change."""
    out = tmp_path / f"mirrored-{Path(name).stem}.png"
    cv2.imwrite(str(out), cv2.imread(str(IMAGES / name))[:, ::-1])
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
    # what the model calls each photo, alone: the truth's names in the model's words
    words: dict[str, str] = {}
    for track in scene.tracks:
        for change in track.changes:
            top = classifier.classify_frame(Frame(cv2.imread(str(change.photo)), 0)).top[0]
            assert words.setdefault(change.label, top.label) == top.label, change
    gates = {s.name: gate_for(s) for s in specs}
    confirmers = {s.name: Confirmer(s.confirm, s.threshold) for s in specs}
    motion = MotionDetector()
    runs = {s.name: [] for s in specs}
    states: list[dict[str, str | None]] = []
    changes: dict[str, list[float]] = {s.name: [] for s in specs}
    for index, image in enumerate(scene.images()):
        t = index / scene.fps
        moved = motion.update(image, t)
        h, w = image.shape[:2]
        for spec in specs:
            if gates[spec.name].due(t, moved, confirmers[spec.name].pending):
                gates[spec.name].ran(t)
                runs[spec.name].append(t)
                left, top, right, bottom = spec.box.pixels(w, h)
                best = classifier.classify_frame(Frame(image[top:bottom, left:right], index)).top[0]
                if confirmers[spec.name].observe(best.label, best.score) is not None:
                    changes[spec.name].append(t)
        states.append({name: c.state for name, c in confirmers.items()})

    for track in scene.tracks:
        true_changes = [c for c in track.true_changes() if c < scene.seconds]
        late = [
            i / scene.fps
            for i, state in enumerate(states)
            if i / scene.fps > WINDOW_S
            and not any(0 <= i / scene.fps - c <= WINDOW_S for c in true_changes)
            and state[track.name] != words[scene.truth(i)[track.name]]
        ]
        assert not late, (track.name, late[:5])
        # one verified change per true class change (the first state included), none for a new photo alone
        assert len(changes[track.name]) == 1 + len(true_changes), (track.name, changes[track.name], true_changes)
        # still stretches: no runs more than WINDOW_S after any change of its photo
        photo_changes = [c.at for c in track.changes]
        idle = [t for t in runs[track.name] if not any(0 <= t - c <= WINDOW_S + 0.5 for c in photo_changes)]
        assert not idle, (track.name, idle[:5])
    # a region runs for a moment after each of its photo changes, never on most frames
    share = {name: len(times) / scene.frames for name, times in runs.items()}
    assert all(s < 0.2 for s in share.values()), share
