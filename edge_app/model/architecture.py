"""A model's architecture, read from its .tflite graph alone: blocks, parameters, MACs.

The graph is grouped into the blocks a person would name. Each DEPTHWISE_CONV_2D anchors a
block: the 1x1 convolution that feeds only it (the expansion), the 1x1 convolution it feeds
(the projection) and an ADD that takes the projection (the residual). With an expansion that
is MobileNetV2's inverted residual; without, MobileNetV1's depthwise-separable pair. Around
them: the stem (the first standard convolution), the last 1x1 convolution, the pooling and
the head. Nothing is typed in: t, c and s come from the tensors' shapes and the ops' strides.

`standard_macs` prices the alternative the depthwise-separable design avoids: the block with
one standard 3x3 convolution (the depthwise kernel's size, from the same input channels to the
same output channels) in place of its depthwise + pointwise pair, the expansion kept.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

OP_KINDS = ("depthwise", "pointwise", "standard", "fully_connected")
_POOLS = ("AVERAGE_POOL_2D", "MEAN", "MAX_POOL_2D")
_HEAD_TAIL = ("RESHAPE", "SQUEEZE", "SOFTMAX", "QUANTIZE", "DEQUANTIZE", "LOGISTIC")
_TYPE_NAMES = {2: "int32", 3: "uint8", 9: "int8", 0: "float32", 1: "float16", 7: "int16"}


@dataclass(frozen=True)
class Op:
    """One operator with what the block table needs of it."""

    index: int
    name: str
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    kernel: tuple[int, int] = (1, 1)
    stride: int = 1
    activation: int = 0  # the fused activation (0: none, i.e. linear)
    params: int = 0
    macs: int = 0
    kind: str | None = None  # one of OP_KINDS, for ops that multiply


@dataclass
class Block:
    kind: str  # stem, inverted_residual, depthwise_separable, conv_1x1, conv, pool, head
    ops: list[Op] = field(default_factory=list)
    t: int = 1
    c: int = 0
    s: int = 1
    input: list[int] = field(default_factory=list)
    output: list[int] = field(default_factory=list)
    residual: bool = False
    linear: bool = False  # a linear bottleneck: the projection has no activation
    standard_macs: int = 0
    ms: float | None = None

    @property
    def params(self) -> int:
        return sum(op.params for op in self.ops)

    @property
    def macs(self) -> int:
        return sum(op.macs for op in self.ops)

    @property
    def end_tensor(self) -> int:
        return self.ops[-1].outputs[0]

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "kind": self.kind,
            "t": self.t,
            "c": self.c,
            "s": self.s,
            "input": self.input,
            "output": self.output,
            "residual": self.residual,
            "linear": self.linear,
            "params": self.params,
            "macs": self.macs,
            "standard_macs": self.standard_macs,
            "ops": [op.name for op in self.ops],
        }
        if self.ms is not None:
            out["ms"] = round(self.ms, 4)
        return out


@dataclass(frozen=True)
class Stage:
    """A row of the MobileNetV2 paper's Table 2: n blocks in a row with the same t and c; s is the first's stride."""

    t: int
    c: int
    n: int
    s: int

    def as_dict(self) -> dict[str, int]:
        return {"t": self.t, "c": self.c, "n": self.n, "s": self.s}


@dataclass(frozen=True)
class Quantization:
    input_dtype: str
    input_scale: float | None
    input_zero_point: int | None
    weights: str  # e.g. "int8 per-channel" or "uint8 per-tensor"

    def as_dict(self) -> dict[str, object]:
        return {
            "input_dtype": self.input_dtype,
            "input_scale": self.input_scale,
            "input_zero_point": self.input_zero_point,
            "weights": self.weights,
        }

    def describe(self) -> str:
        if self.input_scale is None:
            return f"weights {self.weights}; input {self.input_dtype}"
        return (
            f"weights {self.weights}; input {self.input_dtype}, scale {self.input_scale:.6g}, "
            f"zero point {self.input_zero_point}"
        )


@dataclass
class Architecture:
    blocks: list[Block]
    quantization: Quantization
    input_tensor: int
    output_tensor: int

    @property
    def params(self) -> int:
        return sum(b.params for b in self.blocks)

    @property
    def macs(self) -> int:
        return sum(b.macs for b in self.blocks)

    @property
    def standard_macs(self) -> int:
        return sum(b.standard_macs for b in self.blocks)

    def stages(self) -> list[Stage]:
        rows: list[Stage] = []
        for block in self.blocks:
            if block.kind != "inverted_residual":
                continue
            last = rows[-1] if rows else None
            if last is not None and (last.t, last.c) == (block.t, block.c) and block.s == 1:
                rows[-1] = Stage(last.t, last.c, last.n + 1, last.s)
            else:
                rows.append(Stage(block.t, block.c, 1, block.s))
        return rows

    def by_kind(self) -> dict[str, dict[str, int]]:
        """Where the MACs and the parameters sit, by operator kind."""
        totals = {kind: {"macs": 0, "params": 0} for kind in OP_KINDS}
        for block in self.blocks:
            for op in block.ops:
                if op.kind is not None:
                    totals[op.kind]["macs"] += op.macs
                    totals[op.kind]["params"] += op.params
        return totals

    def as_dict(self) -> dict[str, object]:
        return {
            "params": self.params,
            "macs": self.macs,
            "standard_macs": self.standard_macs,
            "saving": round(self.standard_macs / self.macs, 3) if self.macs else None,
            "quantization": self.quantization.as_dict(),
            "stages": [s.as_dict() for s in self.stages()],
            "by_kind": self.by_kind(),
            "blocks": [b.as_dict() for b in self.blocks],
        }


def _shape(graph: Any, tensor: int) -> list[int]:
    shape = graph.tensors[tensor].shape
    return [int(d) for d in shape] if shape is not None else []


def _constant_size(model: Any, graph: Any, tensor: int) -> int:
    data = model.buffers[graph.tensors[tensor].buffer].data
    return int(np.prod(_shape(graph, tensor))) if data is not None and len(data) else 0


def read_ops(model: Any) -> list[Op]:
    """Every operator of subgraph 0 with its kernel, stride, parameters and multiply-accumulates."""
    from edge_app.train.surgery import op_name

    graph = model.subgraphs[0]
    ops = []
    for index, raw in enumerate(graph.operators):
        name = op_name(model, raw)
        inputs = tuple(int(t) for t in raw.inputs)
        outputs = tuple(int(t) for t in raw.outputs)
        options = raw.builtinOptions
        stride = int(getattr(options, "strideH", 1) or 1)
        activation = int(getattr(options, "fusedActivationFunction", 0) or 0)
        params = sum(_constant_size(model, graph, t) for t in inputs[1:] if t >= 0)
        out = _shape(graph, outputs[0])
        kernel, macs, kind = (1, 1), 0, None
        if name in ("CONV_2D", "DEPTHWISE_CONV_2D") and len(inputs) > 1:
            weights = _shape(graph, inputs[1])  # conv: (out, kh, kw, in); depthwise: (1, kh, kw, channels)
            kernel = (weights[1], weights[2])
            spatial = out[1] * out[2]
            if name == "DEPTHWISE_CONV_2D":
                macs, kind = spatial * weights[3] * kernel[0] * kernel[1], "depthwise"
            else:
                macs = spatial * weights[0] * kernel[0] * kernel[1] * weights[3]
                kind = "standard" if kernel != (1, 1) else ("fully_connected" if spatial == 1 else "pointwise")
        elif name == "FULLY_CONNECTED" and len(inputs) > 1:
            weights = _shape(graph, inputs[1])
            macs, kind = weights[0] * weights[1], "fully_connected"
        ops.append(Op(index, name, inputs, outputs, kernel, stride, activation, params, macs, kind))
    return ops


def _consumers(ops: Sequence[Op]) -> dict[int, list[int]]:
    found: dict[int, list[int]] = defaultdict(list)
    for op in ops:
        for tensor in op.inputs:
            if tensor >= 0:
                found[tensor].append(op.index)
    return found


def _is_1x1(op: Op) -> bool:
    return op.name == "CONV_2D" and op.kernel == (1, 1)


def _separable_blocks(ops: Sequence[Op]) -> dict[int, int]:
    """op index -> anchor (the depthwise op's index), for every op that belongs to a separable block."""
    producers = {t: op.index for op in ops for t in op.outputs}
    consumers = _consumers(ops)
    member: dict[int, int] = {}
    for op in ops:
        if op.name != "DEPTHWISE_CONV_2D":
            continue
        parts = [op.index]
        feeder = producers.get(op.inputs[0])
        if feeder is not None and feeder not in member and _is_1x1(ops[feeder]):
            if consumers[ops[feeder].outputs[0]] == [op.index]:
                parts.append(feeder)
        after = consumers[op.outputs[0]]
        if len(after) == 1 and _is_1x1(ops[after[0]]):
            project = after[0]
            parts.append(project)
            adds = [i for i in consumers[ops[project].outputs[0]] if ops[i].name == "ADD"]
            if adds:
                parts.append(adds[0])
        for index in parts:
            member[index] = op.index
    return member


def _kind_of_loose(op: Op, seen_stem: bool, after_pool: bool) -> str | None:
    """The block kind an op outside separable blocks starts, or None to join the one before."""
    if after_pool:
        return None
    if op.name == "CONV_2D":
        if op.kernel != (1, 1):
            return "conv" if seen_stem else "stem"
        return "conv_1x1"
    if op.name in _POOLS:
        return "pool"
    if op.name == "FULLY_CONNECTED":
        return "head"
    return None


def group(ops: Sequence[Op], graph: Any) -> list[Block]:
    member = _separable_blocks(ops)
    blocks: list[Block] = []
    by_anchor: dict[int, Block] = {}
    pending: list[Op] = []  # ops before the first block (e.g. a QUANTIZE of the input)
    seen_stem = False
    after_pool = False
    for op in ops:
        if op.index in member:
            anchor = member[op.index]
            if anchor not in by_anchor:
                by_anchor[anchor] = Block("separable")
                blocks.append(by_anchor[anchor])
            by_anchor[anchor].ops.append(op)
            continue
        if after_pool and blocks and blocks[-1].kind == "pool" and op.kind is not None:
            blocks.append(Block("head", [op]))  # the classifier after the pooling
            continue
        kind = _kind_of_loose(op, seen_stem, after_pool)
        if kind is not None and not (blocks and blocks[-1].kind == "head"):
            blocks.append(Block(kind, [*pending, op]))
            pending = []
            seen_stem = seen_stem or kind == "stem"
            after_pool = kind == "pool"
        elif blocks:
            blocks[-1].ops.append(op)
        else:
            pending.append(op)
    if pending:
        blocks.append(Block("other", pending))
    for block in blocks:
        block.ops.sort(key=lambda o: o.index)
        _describe(block, graph)
    return blocks


def _describe(block: Block, graph: Any) -> None:
    first, last = block.ops[0], block.ops[-1]
    block.input = _shape(graph, first.inputs[0]) if first.inputs and first.inputs[0] >= 0 else []
    block.output = _shape(graph, last.outputs[0])
    block.c = block.output[-1] if block.output else 0
    block.standard_macs = block.macs
    depthwise = [op for op in block.ops if op.name == "DEPTHWISE_CONV_2D"]
    strided = depthwise or [op for op in block.ops if op.name == "CONV_2D"]
    block.s = strided[0].stride if strided else 1
    if block.kind != "separable" or not depthwise:
        return
    dw = depthwise[0]
    convs = [op for op in block.ops if _is_1x1(op)]
    expand = next((op for op in convs if op.index < dw.index), None)
    project = next((op for op in convs if op.index > dw.index), None)
    block.kind = "inverted_residual" if expand is not None else "depthwise_separable"
    block.residual = any(op.name == "ADD" for op in block.ops)
    in_channels = block.input[-1] if block.input else 1
    if expand is not None:
        block.t = max(1, round(_shape(graph, expand.outputs[0])[-1] / in_channels))
        block.kind = "inverted_residual"
    if project is not None:
        block.linear = project.activation == 0
        out = _shape(graph, project.outputs[0])
        pair_in = _shape(graph, dw.inputs[0])[-1]
        standard = out[1] * out[2] * dw.kernel[0] * dw.kernel[1] * pair_in * out[-1]
        block.standard_macs = block.macs - dw.macs - project.macs + standard
    if block.kind == "depthwise_separable" and block.linear and not block.residual:
        block.kind = "inverted_residual"  # MobileNetV2's first block: t = 1, so no expansion layer


def _quantization(model: Any, ops: Sequence[Op]) -> Quantization:
    graph = model.subgraphs[0]
    tensor = graph.tensors[int(graph.inputs[0])]
    q = tensor.quantization
    has_scale = q is not None and q.scale is not None and len(q.scale) > 0
    kinds: dict[str, int] = defaultdict(int)
    for op in ops:
        if op.kind is None:
            continue
        weights = graph.tensors[op.inputs[1]]
        wq = weights.quantization
        channels = len(wq.scale) if wq is not None and wq.scale is not None else 0
        per = "per-channel" if channels > 1 else ("per-tensor" if channels == 1 else "float")
        kinds[f"{_TYPE_NAMES.get(int(weights.type), str(weights.type))} {per}"] += 1
    weights_text = ", ".join(f"{k} ({n})" for k, n in sorted(kinds.items(), key=lambda kv: -kv[1])) or "none"
    return Quantization(
        _TYPE_NAMES.get(int(tensor.type), str(tensor.type)),
        float(q.scale[0]) if has_scale else None,
        int(q.zeroPoint[0]) if has_scale else None,
        weights_text,
    )


def read(data: bytes, source: str = "the model") -> Architecture:
    """The architecture of a .tflite model's bytes (the label zip after it is ignored)."""
    from edge_app.train.surgery import load

    model = load(data, source)
    graph = model.subgraphs[0]
    ops = read_ops(model)
    return Architecture(group(ops, graph), _quantization(model, ops), int(graph.inputs[0]), int(graph.outputs[0]))
