"""Settings: precedence CLI > env > file > defaults, validation with names, config show/init."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from edge_app.address import parse_address
from edge_app.cli import main
from edge_app.errors import EdgeAppError
from edge_app.geometry import RESIZE_MODES, resize
from edge_app.settings import BY_NAME, KEYS, default_config_text, read_config_file, resolve
from edge_app.settings.layers import unknown_variables
from edge_app.sources.spec import parse_resolution


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_defaults_without_any_layer() -> None:
    settings = resolve({}, None, environ={})
    assert (
        settings.model.top_k == 3
        and settings.camera.source.resolution == (640, 480)
        and settings.camera.source.realtime is True
    )
    assert settings.config_path is None
    assert set(settings.origins.values()) == {"default"}


def test_precedence_cli_over_env_over_file_over_default(tmp_path: Path) -> None:
    path = write(tmp_path, '[model]\ntop_k = 4\nthreshold = 0.2\n[output]\nsmooth = 2\nhttp = "9000"\n')
    env = {"EDGE_APP_TOP_K": "5", "EDGE_APP_SMOOTH": "6"}
    settings = resolve({"top_k": 7, "smooth": None}, path, environ=env)
    assert settings.model.top_k == 7 and settings.origins["top_k"] == "command line"
    assert settings.output.smooth == 6 and settings.origins["smooth"] == "env EDGE_APP_SMOOTH"
    assert settings.model.threshold == 0.2 and settings.origins["threshold"] == f"file {path}"
    assert settings.output.http == parse_address("9000")
    assert settings.model.resize == "crop" and settings.origins["resize"] == "default"


def test_config_file_from_environment_variable(tmp_path: Path) -> None:
    path = write(tmp_path, "[source]\nfps = 12\n")
    settings = resolve({}, None, environ={"EDGE_APP_CONFIG": str(path)})
    assert settings.camera.source.fps == 12.0 and isinstance(settings.camera.source.fps, float)


def test_camera_and_source_at_the_same_level_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, '[source]\ncamera = 1\nsource = "clip.mp4"\n')
    with pytest.raises(EdgeAppError, match="both camera and source"):
        resolve({}, path, environ={})


def test_higher_level_input_wins(tmp_path: Path) -> None:
    path = write(tmp_path, '[source]\nsource = "clip.mp4"\n')
    assert resolve({"camera": 2}, path, environ={}).camera.source.source is None
    assert (
        resolve({"source": "x.mp4"}, write(tmp_path, "[source]\ncamera = 1\n"), environ={}).camera.source.source
        == "x.mp4"
    )


def test_a_whole_number_where_text_is_expected_means_what_the_flag_means(tmp_path: Path) -> None:
    """`http = 8080` in the file is `--http 8080`, not "must be text, not 8080"."""
    from_file = resolve({}, write(tmp_path, "[output]\nhttp = 8080\n"), environ={})
    assert from_file.output.http == parse_address("8080") and from_file.output.http.port == 8080
    with pytest.raises(EdgeAppError, match=r"\[output\] http_auth must be one of token, always, none, not '1'"):
        read_config_file(write(tmp_path, "[output]\nhttp_auth = 1\n"))  # still checked, as text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[model]\ntop_kk = 3\n", "unknown key 'top_kk' in [model]"),
        ("[modle]\ntop_k = 3\n", "unknown section [modle]"),
        ("top_k = 3\n", "top_k must be inside a section"),
        ('[model]\ntop_k = "three"\n', "[model] top_k must be a whole number"),
        ("[model]\ntop_k = 0\n", "[model] top_k must be at least 1"),
        ("[model]\nthreshold = 1.5\n", "[model] threshold must be at most 1"),
        ('[model]\nresize = "stretch"\n', "[model] resize must be one of crop, squash, letterbox"),
        ('[model]\ndevice = "usb:x"\n', "[model] device: bad --device 'usb:x'; use usb, usb:N, pci or pci:N"),
        ('[source]\nresolution = "640by480"\n', "[source] resolution: bad resolution '640by480'; write WIDTHxHEIGHT"),
        (
            '[source]\nresolution = "1x1"\n',
            "[source] resolution: resolution 1x1 is out of range; use 16 to 8192 pixels a side",
        ),
        ('[source]\nresolution = "20000x20000"\n', "[source] resolution: resolution 20000x20000 is out of range"),
        ("[source]\nrotate = 45\n", "[source] rotate must be one of 0, 90, 180, 270"),
        ('[source]\nflip = "yes"\n', "[source] flip must be true or false"),
        (
            '[output]\nhttp = "localhost:http"\n',
            "[output] http: bad address 'localhost:http': the port must be a number",
        ),
        ('[output]\nhttp = "::1:8080"\n', "[output] http: bad address '::1:8080': put an IPv6 host in brackets"),
        ("[output]\nsmooth = true\n", "[output] smooth must be a whole number"),
        ("[model\ntop_k = 3\n", "is not valid TOML"),
        ("[model]\nthreshold = nan\n", "[model] threshold must be a finite number, not nan"),
        ("[source]\nfps = inf\n", "[source] fps must be a finite number, not inf"),
        ("[output]\nduration = inf\n", "[output] duration must be a finite number, not inf"),
        ("[output]\nduration = 1e12\n", "[output] duration must be at most 31622400"),
        ("[model]\nthreads = 100000\n", "[model] threads must be at most 64"),
    ],
)
def test_every_invalid_config_names_the_key_and_the_file(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(EdgeAppError) as caught:
        read_config_file(path)
    assert message in str(caught.value)
    assert str(path) in str(caught.value)


@pytest.mark.parametrize(
    "data",
    [
        "# caméra\n[model]\ntop_k = 2\n".encode("latin-1"),
        "[model]\ntop_k = 2\n".encode("utf-16"),
        bytes(range(256)) * 4,
    ],
    ids=["latin-1", "utf-16", "binary"],
)
def test_a_config_that_is_not_utf8_is_one_line_saying_so(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(data)
    with pytest.raises(EdgeAppError) as caught:
        read_config_file(path)
    assert str(caught.value).startswith(f"config file {path} is not UTF-8 text")
    assert caught.value.hint == "save it as UTF-8" and "\n" not in str(caught.value)


@pytest.mark.parametrize("nest", ["a = " + "[" * 100_000 + "]" * 100_000, "a = " + "{b = " * 100_000 + "}" * 100_000])
def test_a_config_nested_100000_deep_is_one_line_at_start(
    tmp_path: Path, nest: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.fakes.cli_run import assert_one_line_error, run_cli

    path = tmp_path / "config.toml"
    path.write_text("[model]\n" + nest + "\n")
    with pytest.raises(EdgeAppError, match="nested too deeply") as caught:
        read_config_file(path)
    assert str(path) in str(caught.value)
    assert_one_line_error(run_cli(capsys, "run", "--config", str(path)), "nested too deeply", str(path))


def test_a_utf8_bom_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes("[model]\ntop_k = 2\n".encode("utf-8-sig"))
    assert read_config_file(path) == {"top_k": 2}


def test_missing_config_file_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(EdgeAppError, match="edge-app config init"):
        resolve({}, tmp_path / "nope.toml", environ={})


@pytest.mark.parametrize(
    ("var", "value", "message"),
    [
        ("EDGE_APP_TOP_K", "many", "EDGE_APP_TOP_K must be a whole number"),
        ("EDGE_APP_FLIP", "maybe", "EDGE_APP_FLIP must be true or false"),
        ("EDGE_APP_THRESHOLD", "nan", "EDGE_APP_THRESHOLD must be a finite number, not nan"),
        ("EDGE_APP_DURATION", "1e400", "EDGE_APP_DURATION must be a finite number, not inf"),
    ],
)
def test_bad_environment_values_name_the_variable(var: str, value: str, message: str) -> None:
    with pytest.raises(EdgeAppError, match=message):
        resolve({}, None, environ={var: value})


def test_bad_cli_value_names_the_flag() -> None:
    with pytest.raises(EdgeAppError, match="--rotate must be one of"):
        resolve({"rotate": 45}, None, environ={})


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("resolution", "1x1", "--resolution: resolution 1x1 is out of range; use 16 to 8192"),
        ("http", "::1:8080", "--http: bad address '::1:8080': put an IPv6 host in brackets"),
        ("device", "usb0", "--device: bad --device 'usb0'; use usb, usb:N, pci or pci:N"),
    ],
)
def test_values_are_checked_by_the_parser_that_will_use_them(name: str, value: str, message: str) -> None:
    with pytest.raises(EdgeAppError) as caught:
        resolve({name: value}, None, environ={})
    assert str(caught.value).startswith(f"command line: {message}")


@pytest.mark.parametrize("text", ["640x480", "1280X720", " 320 x 240 ", "640*480", "640×480", "16x16", "8192x8192"])
def test_every_resolution_the_parser_accepts_is_a_valid_setting(text: str) -> None:
    settings = resolve({}, None, environ={"EDGE_APP_RESOLUTION": text})
    assert settings.camera.source.resolution == parse_resolution(text)


@pytest.mark.parametrize("text", ["[::1]:8080", ":8080", "0.0.0.0:0"])
def test_every_address_the_parser_accepts_is_a_valid_setting(text: str) -> None:
    assert resolve({"http": text}, None, environ={}).output.http == parse_address(text)


def test_every_resize_mode_the_settings_allow_is_one_preprocessing_handles() -> None:
    image = np.zeros((48, 64, 3), np.uint8)
    assert BY_NAME["resize"].choices == RESIZE_MODES
    for mode in BY_NAME["resize"].choices:
        assert resize(image, 20, 10, mode).shape == (10, 20, 3), mode


@pytest.mark.parametrize(("name", "text"), [("resolution", "1280x720"), ("http", "[::1]:8080"), ("http", "0.0.0.0:80")])
def test_parsed_values_are_written_back_as_the_file_would_hold_them(name: str, text: str) -> None:
    key = BY_NAME[name]
    value = resolve({name: text}, None, environ={}).value(name)
    assert key.parse is not None, "both settings are parsed from text"
    assert key.text(value) == text and key.parse(key.text(value)) == value


def test_importing_settings_stays_light() -> None:
    """`edge-app config show` imports only settings: no cv2, numpy or picamera2."""
    code = "import sys, edge_app.settings; print(sorted(m for m in ('cv2', 'numpy', 'picamera2') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_default_config_text_is_valid_and_covers_every_key(tmp_path: Path) -> None:
    text = default_config_text()
    for key in KEYS:
        assert f"# {key.name} = " in text, key.name
    # Uncommenting every line gives a valid file equal to the defaults (plus examples).
    settings_lines = tuple(f"# {key.name} = " for key in KEYS)
    uncommented = "\n".join(line[2:] if line.startswith(settings_lines) else line for line in text.splitlines())
    path = write(tmp_path, uncommented)
    values = read_config_file(path)
    assert values["top_k"] == 3 and values["resize"] == "crop"


def test_config_show_prints_values_and_origins(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "[output]\nsmooth = 3\n")
    monkeypatch.setenv("EDGE_APP_TOP_K", "5")
    with pytest.raises(SystemExit) as code:
        main(["config", "show", "--config", str(path)])
    out = capsys.readouterr().out
    assert code.value.code == 0
    assert f"# config file: {path}" in out
    assert "output.smooth = 3" in out and f"# file {path}" in out
    assert "model.top_k = 5" in out and "# env EDGE_APP_TOP_K" in out
    assert 'model.resize = "crop"' in out and "# default" in out


def test_config_show_with_a_bad_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "[model]\nbogus = 1\n")
    with pytest.raises(SystemExit) as code:
        main(["config", "show", "--config", str(path)])
    err = capsys.readouterr().err
    assert code.value.code == 2
    assert err.count("\n") == 1 and "unknown key 'bogus'" in err and "Traceback" not in err


def test_config_init_writes_once_and_never_overwrites(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "etc" / "config.toml"
    with pytest.raises(SystemExit) as code:
        main(["config", "init", str(path)])
    assert code.value.code == 0 and path.read_text() == default_config_text()
    path.write_text("[model]\ntop_k = 9\n")
    with pytest.raises(SystemExit) as code:
        main(["config", "init", str(path)])
    assert code.value.code == 2 and "already exists" in capsys.readouterr().err
    assert path.read_text() == "[model]\ntop_k = 9\n"


def test_state_dir_is_the_setting_else_systemds_else_xdg(tmp_path: Path) -> None:
    from edge_app.paths import state_dir

    assert state_dir("~/taught", {}) == Path.home() / "taught"
    assert state_dir(None, {"STATE_DIRECTORY": "/var/lib/edge-app:/var/lib/other"}) == Path("/var/lib/edge-app")
    assert state_dir(None, {"XDG_STATE_HOME": str(tmp_path)}) == tmp_path / "edge-app"
    assert state_dir(None, {}) == Path.home() / ".local" / "state" / "edge-app"
    assert resolve({"state_dir": str(tmp_path)}, None, environ={}).state_path == tmp_path


def test_unknown_environment_variables_are_named_with_the_closest_known_one() -> None:
    heard: list[str] = []
    settings = resolve(
        {},
        None,
        environ={
            "EDGE_APP_TOPK": "5",
            "EDGE_APP_MODEL_MIROR": "x",
            "EDGE_APP_WHATEVER": "1",
            "EDGE_APP_TOP_K": "2",
            "EDGE_APP_MODELS": "/m",
            "HOME": "/root",
        },
        warn=heard.append,
    )
    assert settings.model.top_k == 2
    assert heard == [
        "ignoring unknown environment variable EDGE_APP_MODEL_MIROR: did you mean EDGE_APP_MODEL_MIRROR?",
        "ignoring unknown environment variable EDGE_APP_TOPK: did you mean EDGE_APP_TOP_K?",
        "ignoring unknown environment variable EDGE_APP_WHATEVER",
    ]
    resolve({}, None, environ={"EDGE_APP_TOPK": "5"}, warn=None)  # a reload: said at start, not again


def test_every_edge_app_variable_the_project_reads_is_known() -> None:
    """A new EDGE_APP_* variable must join OTHER_ENV (or be a setting), or users setting it get a warning."""
    root = Path(__file__).resolve().parents[2]
    sources = [
        *root.joinpath("edge_app").rglob("*.py"),
        *root.joinpath("tests").rglob("*.py"),
        *root.joinpath(".ci").glob("*"),
        *root.joinpath("systemd").glob("*"),
    ]
    used = {
        name
        for path in sources
        if path.is_file()
        for name in re.findall(r"EDGE_APP_[A-Z][A-Z0-9_]*[A-Z0-9]", path.read_text(errors="replace"))
    }
    assert (
        used
        and unknown_variables(dict.fromkeys(used - {"EDGE_APP_TOPK", "EDGE_APP_MODEL_MIROR", "EDGE_APP_WHATEVER"}, ""))
        == []
    )
