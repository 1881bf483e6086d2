"""`edge-app classify` through the real entry point, with the catalog's MobileNetV2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakes.cli_run import CliRun, assert_one_line_error, run_cli
from tests.helpers.shared_data import IMAGES, MODELS

V2 = "mobilenet_v2_1.0_224_quant"
# XNNPACK's uint8 kernels requantize differently on aarch64 (cat.bmp 0.785 there, 0.801 on x86_64:
# 4 output steps of 1/256), so scores are compared within 5 steps, and thresholds sit between
# scores further apart than that on both.
ARCH = 5 / 256
EXPECTED = {  # ../shared/README.md; the scores below are for the INTER_LINEAR_EXACT resize, on any machine
    "parrot.jpg": (89, "macaw"),
    "bird.bmp": (20, "chickadee"),
    "hot_dog.jpg": (935, "hotdog, hot dog, red hot"),
    "cat.bmp": (286, "Egyptian cat"),
}


def _classify(capsys: pytest.CaptureFixture[str], *args: str, images: list[str] | None = None) -> CliRun:
    paths = [str(IMAGES / name) for name in (images or list(EXPECTED))]
    return run_cli(capsys, "classify", "--delegate", "cpu", *args, *paths)


def test_json_gives_the_expected_label_for_each_image(model_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = _classify(capsys, "-m", V2, "--json")
    assert run.code == 0 and run.err == ""
    report = json.loads(run.out)
    assert [item["image"] for item in report] == [str(IMAGES / name) for name in EXPECTED], (
        "one object per image, in order"
    )
    for item, (index, label) in zip(report, EXPECTED.values()):
        assert set(item) == {"image", "inference_ms", "top"}
        assert isinstance(item["inference_ms"], float) and 0 < item["inference_ms"] < 10_000
        assert 1 <= len(item["top"]) <= 3, "labels that score 0 are not shown"
        assert all(set(t) == {"index", "label", "score"} for t in item["top"])
        assert (item["top"][0]["index"], item["top"][0]["label"]) == (index, label)
        scores = [t["score"] for t in item["top"]]
        assert scores == sorted(scores, reverse=True) and 0 < scores[0] <= 1


def test_scores_match_the_reference(model_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = json.loads(_classify(capsys, "-m", V2, "--json", "-k", "1").out)
    top1 = {Path(item["image"]).name: item["top"][0]["score"] for item in report}
    assert top1 == pytest.approx({"parrot.jpg": 1.0, "bird.bmp": 0.99, "hot_dog.jpg": 0.99, "cat.bmp": 0.8}, abs=ARCH)


def test_text_output(model_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = _classify(capsys, "-m", V2, "-k", "2", images=["cat.bmp"])
    assert run.code == 0
    lines = run.out.splitlines()
    assert lines[0].startswith(f"{IMAGES / 'cat.bmp'}  (") and lines[0].endswith(" ms)")
    score, *label = lines[1].split()
    assert label == ["Egyptian", "cat", "[286]"]
    assert float(score) == pytest.approx(0.801, abs=ARCH) and len(score) == len("0.801")
    assert len(lines) == 3 and "tabby" in lines[2]


@pytest.mark.parametrize("k", [1, 5])
def test_top_k(model_cache: Path, capsys: pytest.CaptureFixture[str], k: int) -> None:
    report = json.loads(_classify(capsys, "-m", V2, "--json", "--all", "--top-k", str(k)).out)
    assert all(len(item["top"]) == k for item in report)


def test_threshold_hides_low_scores(model_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    images = ["grace_hopper.bmp", "cat.bmp"]
    report = json.loads(_classify(capsys, "-m", V2, "--json", "-k", "5", "--threshold", "0.12", images=images).out)
    hopper, cat = ([t["label"] for t in item["top"]] for item in report)
    assert hopper == ["military uniform", "mortarboard", "suit, suit of clothes"], "0.363, 0.199, 0.180 pass, 0.062 not"
    assert cat == ["Egyptian cat"], "0.801 passes, 0.090 does not"
    for item in report:
        assert all(t["score"] >= 0.12 for t in item["top"])


def test_threshold_can_leave_an_empty_list(model_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = json.loads(_classify(capsys, "-m", V2, "--json", "--threshold", "0.9", images=["cat.bmp"]).out)
    assert report[0]["top"] == []


@pytest.mark.shared
def test_model_as_a_file_path(capsys: pytest.CaptureFixture[str]) -> None:
    run = _classify(capsys, "-m", str(MODELS / f"{V2}.tflite"), "--json", "-k", "1", images=["parrot.jpg"])
    assert json.loads(run.out)[0]["top"][0]["label"] == "macaw"


@pytest.mark.parametrize("resize", ["squash", "letterbox"])
def test_other_resize_modes_still_recognise_the_parrot(
    model_cache: Path, capsys: pytest.CaptureFixture[str], resize: str
) -> None:
    run = _classify(capsys, "-m", V2, "--json", "-k", "1", "--resize", resize, images=["parrot.jpg"])
    assert json.loads(run.out)[0]["top"][0]["label"] == "macaw"


def test_the_default_model_from_the_cache(model_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = json.loads(_classify(capsys, "--json", "-k", "1").out)
    assert [item["top"][0]["index"] for item in report] == [index for index, _ in EXPECTED.values()]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--resize", "stretch"], "bad resize mode 'stretch'; use one of: crop, squash, letterbox"),
        (["--top-k", "0"], "--top-k"),
        (["--threshold", "1.5"], "--threshold"),
        (["--delegate", "gpu"], "bad --delegate 'gpu'"),
        (["--threads", "0"], "--threads"),
        (["--device", "usb0"], "bad --device 'usb0'; use usb, usb:N, pci or pci:N"),
        (["--runtime", "tflite"], "unknown runtime 'tflite'"),
    ],
)
def test_bad_options_are_one_line(
    model_cache: Path, capsys: pytest.CaptureFixture[str], args: list[str], needle: str
) -> None:
    assert_one_line_error(_classify(capsys, "-m", V2, *args, images=["cat.bmp"]), needle)


def test_no_images_is_a_usage_error(model_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert_one_line_error(run_cli(capsys, "classify"), "Missing argument", "see edge-app classify --help")


def test_a_bad_file_is_reported_and_the_rest_are_classified(
    model_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    gone = tmp_path / "gone.png"
    run = run_cli(capsys, "classify", "-m", V2, "-k", "1", str(broken), str(IMAGES / "cat.bmp"), str(gone))
    assert run.code == 1, "some input failed: exit 1, at the end"
    assert run.err.splitlines() == [
        f"edge-app: error: {broken} is not a readable image; use a JPEG, PNG, BMP or WebP file",
        f"edge-app: error: no file or folder {gone}; check the path",
    ]
    assert run.out.splitlines()[0].startswith(f"{IMAGES / 'cat.bmp'}  (") and "Egyptian cat" in run.out
    report = json.loads(run_cli(capsys, "classify", "-m", V2, "--json", str(broken), str(IMAGES / "cat.bmp")).out)
    assert report[0] == {
        "image": str(broken),
        "error": f"{broken} is not a readable image; use a JPEG, PNG, BMP or WebP file",
    }
    assert report[1]["top"][0]["label"] == "Egyptian cat"


def test_folders_are_classified_image_by_image(
    model_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "b" / "deeper").mkdir(parents=True)
    (tmp_path / "b" / "deeper" / "parrot.jpg").symlink_to(IMAGES / "parrot.jpg")
    (tmp_path / "a.bmp").symlink_to(IMAGES / "cat.bmp")
    (tmp_path / "notes.txt").write_text("not a photo")
    (tmp_path / ".hidden.jpg").write_bytes(b"apple double")
    (tmp_path / "empty").mkdir()
    run = run_cli(capsys, "classify", "-m", V2, "--json", "-k", "1", str(tmp_path), str(IMAGES / "owl.jpg"))
    report = json.loads(run.out)
    assert [(Path(item["image"]).name, item.get("top", [{}])[0].get("label")) for item in report] == [
        ("a.bmp", "Egyptian cat"),
        ("parrot.jpg", "macaw"),
        ("owl.jpg", "ruffed grouse, partridge, Bonasa umbellus"),
    ]
    assert run.code == 0 and run.err == ""
    empty = run_cli(capsys, "classify", "-m", V2, str(tmp_path / "empty"))
    assert_one_line_error(empty, f"no images in folder {tmp_path / 'empty'}")
    assert empty.code == 1


def test_background_and_zero_scores_are_hidden_unless_asked(
    model_cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The parrot scores 0.996 macaw and nothing else: the rest of a top 5 would be background and zeros."""
    [parrot] = json.loads(_classify(capsys, "-m", V2, "--json", "-k", "5", images=["parrot.jpg"]).out)
    assert [t["label"] for t in parrot["top"]] == ["macaw"]
    [everything] = json.loads(_classify(capsys, "-m", V2, "--json", "-k", "5", "--all", images=["parrot.jpg"]).out)
    assert len(everything["top"]) == 5 and "background" in [t["label"] for t in everything["top"]]
