"""Verified states kept in the state dir: saved whole, loaded after a restart, damage moved aside."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from edge_app.regions.states import STATE_FILE, SavedState, load, region_dir, save


def test_saved_states_come_back_per_camera(tmp_path: Path) -> None:
    assert load(tmp_path, "front") == {}
    assert save(tmp_path, "front", "door", SavedState("open", 1700000000.5, 0.93))
    assert save(tmp_path, "front", "bins", SavedState("out", 1700000001.0, 0.81))
    assert save(tmp_path, "back", "door", SavedState("closed", 1.0, 0.99))
    assert save(tmp_path, "front", "door", SavedState("closed", 1700000002.0, 0.9))
    assert load(tmp_path, "front") == {
        "door": SavedState("closed", 1700000002.0, 0.9),
        "bins": SavedState("out", 1700000001.0, 0.81),
    }
    assert load(tmp_path, "back") == {"door": SavedState("closed", 1.0, 0.99)}
    assert not [p for p in region_dir(tmp_path, "front", "door").iterdir() if p.name != STATE_FILE]  # no temp files


@pytest.mark.parametrize(
    "text",
    [
        b"",
        b"{not json",
        b'{"state": "open"}',
        b'{"state": 3, "since": 1, "score": 1}',
        b"\xff\xfe",
        b'{"state": "open", "since": NaN, "score": 0.9}',
        b"[]",
    ],
)
def test_a_damaged_file_is_moved_aside_with_one_line(
    tmp_path: Path, text: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    save(tmp_path, "cam", "good", SavedState("on", 5.0, 0.9))
    folder = region_dir(tmp_path, "cam", "bad")
    folder.mkdir(parents=True)
    (folder / STATE_FILE).write_bytes(text)
    with caplog.at_level(logging.WARNING, "edge_app.regions"):
        assert load(tmp_path, "cam") == {"good": SavedState("on", 5.0, 0.9)}
    assert len(caplog.records) == 1 and "damaged" in caplog.records[0].getMessage()
    assert not (folder / STATE_FILE).exists()
    (aside,) = folder.iterdir()
    assert aside.read_bytes() == text
    assert load(tmp_path, "cam") == {"good": SavedState("on", 5.0, 0.9)}  # once moved, quiet
    save(tmp_path, "cam", "bad", SavedState("off", 6.0, 0.8))
    assert load(tmp_path, "cam")["bad"] == SavedState("off", 6.0, 0.8)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_an_unwritable_state_dir_is_one_line_not_a_crash(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    tmp_path.chmod(0o500)
    try:
        with caplog.at_level(logging.WARNING, "edge_app.regions"):
            assert not save(tmp_path, "cam", "door", SavedState("open", 1.0, 0.9))
        assert "could not keep region door" in caplog.text
    finally:
        tmp_path.chmod(0o700)


def test_a_file_in_place_of_the_state_dir_is_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "regions").write_text("oops")
    assert load(tmp_path, "cam") == {}
    assert not save(tmp_path, "cam", "door", SavedState("open", 1.0, 0.9))


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", ".hidden", "a\\b"])
def test_names_never_leave_the_state_dir(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError):
        region_dir(tmp_path, "cam", name)
    with pytest.raises(ValueError):
        load(tmp_path, name)


def test_verified_changes_on_the_bus_are_kept_and_said_after_a_restart(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import numpy as np

    from edge_app.bus import Bus, StateChanged
    from edge_app.frames import Frame
    from edge_app.regions.spec import Box
    from edge_app.regions.states import StateKeeper

    bus = Bus()
    StateKeeper(tmp_path).subscribe(bus)
    bus.start()
    frame = Frame(np.zeros((2, 2, 3), np.uint8), 7)
    box = Box(0.1, 0.1, 0.5, 0.5)
    bus.publish(StateChanged("cam", "door", "open", None, 0.91, frame, box, 1700000000.0))
    bus.publish(StateChanged("cam", "door", "closed", "open", 0.95, frame, box, 1700000060.0))
    bus.publish(StateChanged("cam", "bins", "out", None, 0.88, frame, box, 1700000061.0))
    bus.close()  # everything queued is delivered first
    assert bus.stats()["region-states"]["failed"] == 0
    with caplog.at_level(logging.INFO, "edge_app.regions"):
        assert load(tmp_path, "cam") == {
            "door": SavedState("closed", 1700000060.0, 0.95),
            "bins": SavedState("out", 1700000061.0, 0.88),
        }
    said = sorted(record.getMessage() for record in caplog.records)
    assert len(said) == 2 and "region door of camera cam starts from its last state 'closed'" in said[1], said
