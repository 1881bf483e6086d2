"""The nested config: [cameras.NAME] with their regions, top-level [regions] and --region for one
camera, typed sections, and today's flat files as the one-camera shorthand."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_app.errors import EdgeAppError
from edge_app.regions.spec import Box
from edge_app.settings import DEFAULT_CAMERA, describe, resolve
from edge_app.settings.sections.mqtt import MqttConfig


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


TWO = """
[source]
resolution = "320x240"
[model]
top_k = 2
[cameras.door]
camera = 1
rotate = 180
[cameras.door.regions.bins]
box = [0.0, 0.5, 0.4, 1.0]
every = 30
[cameras.yard]
source = "synthetic"
model = "/models/yard.tflite"
[cameras.yard.regions.feeder]
box = [0.1, 0.1, 0.5, 0.6]
on_motion = true
"""


def test_two_cameras_each_with_its_source_keys_model_and_regions(tmp_path: Path) -> None:
    settings = resolve({}, write(tmp_path, TWO), environ={})
    door, yard = settings.cameras
    assert (door.name, door.source.camera, door.source.source, door.source.rotate) == ("door", 1, None, 180)
    assert (yard.name, yard.source.source, yard.source.rotate) == ("yard", "synthetic", 0)
    assert door.source.resolution == yard.source.resolution == (320, 240)  # [source] is what they share
    assert door.model.model is None and yard.model.model == "/models/yard.tflite"
    assert door.model.top_k == yard.model.top_k == 2
    assert [r.name for r in door.regions] == ["bins"] and door.regions[0].every == 30
    assert [r.name for r in yard.regions] == ["feeder"] and yard.regions[0].box == Box(0.1, 0.1, 0.5, 0.6)
    assert settings.origins["cameras.door.rotate"].startswith("file ")
    rows = {key for key, _, _ in describe(settings)}
    assert {"cameras.door.rotate", "cameras.yard.model", "cameras.yard.regions.feeder.box"} <= rows


def test_the_command_line_sets_every_camera_but_never_one_input_for_all(tmp_path: Path) -> None:
    path = write(tmp_path, TWO)
    settings = resolve({"rotate": 90}, path, environ={})
    assert [camera.source.rotate for camera in settings.cameras] == [90, 90]
    with pytest.raises(EdgeAppError, match="--source would set the input of all 2 cameras"):
        resolve({"source": "clip.mp4"}, path, environ={})


def test_a_flat_file_is_one_camera_with_top_level_regions_and_flags(tmp_path: Path) -> None:
    path = write(tmp_path, '[source]\nsource = "synthetic"\n[regions.door]\nbox = [0.1, 0.2, 0.4, 0.9]\n')
    settings = resolve({}, path, environ={}, regions=["bins=0,0.5,0.4,1"])
    (camera,) = settings.cameras
    assert camera.name == DEFAULT_CAMERA and camera.source.source == "synthetic"
    assert [r.name for r in camera.regions] == ["door", "bins"]
    assert settings.value("source") == "synthetic"


@pytest.mark.parametrize(
    ("text", "regions", "message"),
    [
        ("[cameras.door]\nsorce = 1\n", (), "unknown key 'sorce' in [cameras.door]"),
        ("[cameras.Door]\ncamera = 1\n", (), "camera name 'Door' is not usable"),
        ("[cameras.door]\nhttp = 8080\n", (), "unknown key 'http' in [cameras.door]"),
        ("[cameras.door]\nrotate = 45\n", (), "[cameras.door] rotate must be one of 0, 90, 180, 270"),
        ("[cameras.door.regions.a]\nbox = [0.5, 0, 0.1, 1]\n", (), "box [0.5, 0.0, 0.1, 1.0] is reversed"),
        ("[regions.a]\nbox = [0, 0, 1, 2]\n", (), "2 is outside 0 to 1"),
        ("[regions.a]\nbox = [0, 0, 1, 1]\n", ("a=0,0,0.5,0.5",), "region 'a' is defined twice"),
        ("[cameras.a]\ncamera = 0\n[cameras.b]\ncamera = 1\n[regions.x]\nbox = [0, 0, 1, 1]\n", (), "whose are they"),
        ("[cameras]\n", (), "[cameras] needs a table per camera"),
        ('[cameras.door]\ncamera = 1\nsource = "x.mp4"\n', (), "both camera and source are set"),
    ],
)
def test_bad_cameras_and_regions_are_one_line_naming_the_key(
    tmp_path: Path, text: str, regions: tuple[str, ...], message: str
) -> None:
    with pytest.raises(EdgeAppError) as caught:
        resolve({}, write(tmp_path, text), environ={}, regions=regions)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_bad_region_flag_names_the_flag() -> None:
    with pytest.raises(EdgeAppError, match="command line: --region door: '7' is outside 0 to 1"):
        resolve({}, None, environ={}, regions=["door=0,0,1,7"])


def test_a_key_in_the_wrong_section_is_read_with_one_line_saying_where_it_belongs(tmp_path: Path) -> None:
    heard: list[str] = []
    settings = resolve({}, write(tmp_path, "[output]\nmqtt_qos = 0\n"), environ={}, warn=heard.append)
    assert settings.mqtt.qos == 0
    assert heard == [
        f"config file {tmp_path / 'config.toml'}: mqtt_qos belongs in [mqtt], not [output] (read as [mqtt] mqtt_qos)"
    ]


def test_sections_are_typed_and_mqtt_keys_may_be_short(tmp_path: Path) -> None:
    settings = resolve({}, write(tmp_path, '[mqtt]\nmqtt = "mqtt://broker"\nqos = 2\nmqtt_interval = 5\n'), environ={})
    assert isinstance(settings.mqtt, MqttConfig) and settings.section(MqttConfig) is settings.mqtt
    assert (settings.mqtt.url.host if settings.mqtt.url else None, settings.mqtt.qos, settings.mqtt.interval) == (
        "broker",
        2,
        5.0,
    )
    assert settings.origins["mqtt_qos"].startswith("file ")
