"""`models inspect`: the architecture read from the .tflite graph, checked against the paper."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from edge_app.cli import app
from edge_app.model import architecture
from edge_app.model.profile import measure
from tests.helpers.shared_data import MODELS

# MobileNetV2 paper, Table 2: (t, c, n, s) of the inverted residual stages
PAPER_TABLE_2 = [
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
]


@pytest.mark.shared
@pytest.mark.parametrize("name", ["mobilenet_v2_1.0_224_quant", "tf2_mobilenet_v2_1.0_224_ptq"])
def test_mobilenet_v2_reads_like_the_paper(name: str) -> None:
    arch = architecture.read((MODELS / f"{name}.tflite").read_bytes())
    kinds = [b.kind for b in arch.blocks]
    assert kinds.count("inverted_residual") == 17
    assert kinds[0] == "stem" and kinds[-3:] == ["conv_1x1", "pool", "head"]
    assert [(s.t, s.c, s.n, s.s) for s in arch.stages()] == PAPER_TABLE_2
    assert 3.4e6 <= arch.params <= 3.6e6
    assert 290e6 <= arch.macs <= 310e6
    blocks = [b for b in arch.blocks if b.kind == "inverted_residual"]
    assert sum(b.residual for b in blocks) == 10  # every stride-1 block whose channels stay the same
    assert all(b.linear for b in blocks)
    assert all(b.standard_macs > 2 * b.macs for b in blocks)  # the saving, block by block
    assert arch.blocks[0].input == [1, 224, 224, 3] and arch.blocks[-1].c == 1001


@pytest.mark.shared
def test_the_quantization_scheme_is_told_apart() -> None:
    v1 = architecture.read((MODELS / "mobilenet_v2_1.0_224_quant.tflite").read_bytes()).quantization
    tf2 = architecture.read((MODELS / "tf2_mobilenet_v2_1.0_224_ptq.tflite").read_bytes()).quantization
    assert v1.weights.startswith("uint8 per-tensor") and (v1.input_scale, v1.input_zero_point) == (0.0078125, 128)
    assert tf2.weights.startswith("int8 per-channel") and tf2.input_dtype == "uint8"


@pytest.mark.shared
def test_mobilenet_v1_is_shown_as_what_it_is() -> None:
    arch = architecture.read((MODELS / "mobilenet_v1_0.25_128_quant.tflite").read_bytes())
    kinds = [b.kind for b in arch.blocks]
    assert kinds.count("depthwise_separable") == 13 and "inverted_residual" not in kinds
    assert arch.stages() == []
    by_kind = arch.by_kind()
    assert by_kind["pointwise"]["macs"] > by_kind["depthwise"]["macs"] > 0


@pytest.mark.shared
def test_inspect_json_has_the_documented_fields() -> None:
    result = CliRunner().invoke(app, ["models", "inspect", str(MODELS / "mobilenet_v2_1.0_224_quant.tflite"), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert {"params", "macs", "blocks", "stages", "by_kind", "quantization"} <= set(data)
    block = data["blocks"][3]
    assert {"kind", "t", "c", "s", "params", "macs", "standard_macs"} <= set(block)
    assert "ms" not in block


@pytest.mark.shared
@pytest.mark.slow
def test_profile_times_every_block_and_writes_the_picture(tmp_path: Path) -> None:
    picture = tmp_path / "blocks.png"
    model = str(MODELS / "mobilenet_v1_0.25_128_quant.tflite")
    args = ["models", "inspect", model, "--profile", "--rounds", "3", "--json", "--plot", str(picture)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output[: result.output.rindex("}") + 1])
    assert all("ms" in b for b in data["blocks"]) and data["invoke_ms"] > 0
    assert data["blocks_ms"] == pytest.approx(sum(b["ms"] for b in data["blocks"]), abs=1e-3)
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_profile_rounds_interleave_and_blocks_are_differences() -> None:
    calls: list[str] = []

    def timer(name: str, ms: float) -> Callable[[], float]:
        def once() -> float:
            calls.append(name)
            return ms

        return once

    profile = measure([timer("a", 1.0), timer("b", 3.0), timer("c", 6.0)], timer("whole", 6.0), rounds=2, per_round=1)
    assert calls == ["a", "b", "c", "whole"] * 2
    assert profile.block_ms == [1.0, 2.0, 3.0]
    assert profile.blocks_ms == 6.0 and profile.agreement == 1.0
