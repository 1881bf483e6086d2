"""Events' pure parts: the config section, retention, the review picker, watched labels, snapshots."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edge_app.errors import EdgeAppError
from edge_app.events import snapshots
from edge_app.events.retention import DAY_S, Disk, plan
from edge_app.events.review import ReviewOptions, ReviewPicker, reason
from edge_app.events.watch import WatchTracker
from edge_app.regions.spec import Box
from edge_app.settings import resolve
from edge_app.settings.sections.events import EventsConfig
from tests.helpers.pictures import imdecode

ROOMY = Disk(1000, 900)


def test_the_section_has_defaults_and_per_region_overrides() -> None:
    config = EventsConfig.from_table({"clips": True, "watch": ["bird", "bird"], "regions": {"door": {"clips": False}}})
    assert (config.pre_s, config.post_s, config.keep_days, config.keep_mb, config.review_below) == (5, 5, 14, 1024, 0.9)
    assert config.watch == ("bird",)
    assert config.clips_for("bins") and not config.clips_for("door")
    assert EventsConfig.from_table({"regions": {"door": {"review_below": 0.5}}}).review_below_for("door") == 0.5


def test_the_config_file_section_reaches_the_settings_typed(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[output]\nevents = "-"\n[events]\nclips = true\nwatch = ["bird"]\n[events.regions.door]\nclips = false\n'
    )
    settings = resolve({}, config, environ={})
    assert settings.value("events") == "-"  # the --events lines are another thing
    events = settings.section(EventsConfig)
    assert events.watch == ("bird",) and events.clips and not events.clips_for("door")
    assert resolve({}, None, environ={}).section(EventsConfig) == EventsConfig()  # no section: the defaults
    config.write_text("[events]\npre_s = 100\n")
    with pytest.raises(EdgeAppError, match=f"config file {config}: \\[events\\] pre_s = 100 is outside"):
        resolve({}, config, environ={})


@pytest.mark.parametrize(
    "table, words",
    [
        ({"clip": True}, "no setting 'clip'"),
        ({"pre_s": -1}, "pre_s"),
        ({"keep_mb": 0}, "keep_mb"),
        ({"review_below": 2}, "review_below"),
        ({"watch": "bird"}, "watch"),
        ({"clips": "yes"}, "clips"),
        ({"regions": {"door": {"keep_mb": 3}}}, "[events.regions.door]"),
    ],
)
def test_bad_settings_are_one_line_naming_them(table: dict, words: str) -> None:
    with pytest.raises(EdgeAppError, match=words.replace("[", r"\[").replace("]", r"\]")):
        EventsConfig.from_table(table)


def test_retention_deletes_oldest_first_by_age_then_size() -> None:
    now = 100 * DAY_S
    usage = [(1, now - 20 * DAY_S, 10), (2, now - 3 * DAY_S, 10), (3, now - 2 * DAY_S, 10), (4, now, 10)]
    assert plan(usage, now, 14, 10_000, ROOMY).ids == [1]
    assert plan(usage, now, 14, 25, ROOMY).ids == [1, 2]
    assert plan(usage, now, 30, 10_000, ROOMY).ids == []


def test_a_nearly_full_disk_takes_the_oldest_until_5_percent_is_free() -> None:
    usage = [(i, float(i), 10) for i in range(1, 11)]
    chosen = plan(usage, 20.0, 14, 10_000, Disk(1000, 25))
    assert chosen.low_disk and chosen.ids == [1, 2, 3]  # 25 + 30 >= 50


def test_review_reasons() -> None:
    assert reason("open", 0.99, "open", False, True, 0.9) == "first"
    assert reason("open", 0.99, "open", True, False, 0.9) == "pending"
    assert reason("closed", 0.99, "open", False, False, 0.9) == "differs"
    assert reason("open", 0.5, "open", False, False, 0.9) == "low score"
    assert reason("open", 0.99, "open", False, False, 0.9) is None


def _scene(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (48, 64, 3), np.uint8)


def test_the_picker_rate_limits_and_samples_varied_scenes_before_teaching() -> None:
    picker = ReviewPicker(ReviewOptions(every_s=2.0, sample_every_s=10.0))
    key, ok = ("cam", "door"), ("open", 0.99)

    def pick(now: float, image: np.ndarray, taught: bool = False, result: tuple[str, float] = ok) -> str | None:
        return picker.pick(key, result, ("open", False), (now, 1e9 + now), image, taught)

    assert pick(0.0, _scene(1)) == "first"
    assert pick(1.0, _scene(2), result=("open", 0.2)) is None  # within every_s
    assert pick(3.0, _scene(2), result=("open", 0.2)) == "low score"
    assert pick(5.0, _scene(1)) is None  # a sample too soon after the first
    assert pick(20.0, _scene(1)) is None  # like one already kept
    assert pick(40.0, _scene(3)) == "sample"
    assert pick(60.0, _scene(4), taught=True) is None  # once taught, only the reasons count


def test_a_watched_label_starts_and_ends_after_confirm_results() -> None:
    tracker = WatchTracker.of(["bird"], confirm=2, threshold=0.5)
    seen = [tracker.observe(top) for top in ([("bird", 0.9)], [("cat", 0.9)], [("bird", 0.8)], [("bird", 0.7)])]
    assert seen[:3] == [[], [], []]  # one result is not enough, and the cat broke the run
    assert [(c.kind, c.label, c.score) for c in seen[3]] == [("start", "bird", 0.8)]
    assert tracker.observe([("bird", 0.3)]) == []
    assert [c.kind for c in tracker.observe([])] == ["end"]


def test_a_watched_name_matches_a_label_or_any_of_its_synonyms() -> None:
    tracker = WatchTracker.of(["Hot dog", "macaw"], confirm=1, threshold=0.5)
    changes = tracker.observe([("hotdog, hot dog, red hot", 0.9), ("hot pot", 0.6), ("macaws", 0.8)])
    assert [(c.kind, c.label, c.score) for c in changes] == [("start", "Hot dog", 0.9)]
    assert [(c.kind, c.label) for c in tracker.observe([("macaw", 0.7)])] == [("end", "Hot dog"), ("start", "macaw")]


def test_a_snapshot_has_the_box_drawn_and_the_clean_crop() -> None:

    image = np.full((100, 200, 3), 40, np.uint8)
    shot = snapshots.snapshot(image, Box(0.5, 0.5, 1.0, 1.0), "door: open 0.91")
    full = imdecode(shot.full)
    crop = imdecode(shot.crop)
    assert full.shape == (100, 200, 3) and crop.shape == (50, 100, 3)
    assert np.abs(full[75, 100].astype(int) - snapshots.BOX_COLOUR).max() < 40  # the box's left edge
    assert np.abs(crop.astype(int) - 40).max() < 8  # nothing drawn on the crop
