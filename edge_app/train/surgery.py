"""TFLite model surgery without TensorFlow: bytes in, bytes out.

A .tflite file is a flatbuffer (schema in ai_edge_litert.schema_py_generated, read and written
with its object API), optionally followed by a zip archive holding the label file. The models
this works on end in the classic MobileNet head:

    features (7x7xC) -> CONV_2D 1x1 + ReLU6 (the last block) -> AVERAGE_POOL_2D or MEAN
    -> pooled embedding [1,1,1,D] -> CONV_2D 1x1 (D -> classes) -> RESHAPE -> SOFTMAX [-> QUANTIZE]

`find_head` locates that chain (and says what it found instead), and the builders below make:

- `extractor_model`: a copy cut at the pooled embedding (and/or the features), ops, tensors and
  buffers after it pruned, so a plain interpreter returns the embedding with no debug flags;
- `classifier_model`: the base with a new K-class head, quantized like the base, labels embedded;
- `dual_output_model`: a classifier that also outputs its pooled embedding (for teaching live);
- `tail_model`: the part of a model after the embedding or a cut below it, to score cached
  embeddings with exactly the integer arithmetic of the written file.

`top_part` finds the top of the network that fine-tuning trains: the last 1x1 block, and below it
whole inverted-residual blocks (expand 1x1, depthwise 3x3, project 1x1, residual ADD where there
is one); `classifier_model` writes a retrained top back, requantized like the base.
"""

from __future__ import annotations

import copy
import io
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as schema

from edge_app.errors import EdgeAppError
from edge_app.model.labels import embedded_labels, parse_labels
from edge_app.model.tflite_file import HEAD, IDENTIFIER, not_a_model
from edge_app.train.head import Head
from edge_app.train.quant import Quant, Scheme, activation_quant, quantize_bias, quantize_weights

ALIGNMENT = 16  # the converter aligns every constant buffer to 16 bytes; kernels may rely on it
LOGIT_MARGIN = 0.25  # head output range = training logits' range widened by this share of its span on each side
POOLED, FEATURES = "pooled", "features"
LABELS_FILE = "labels.txt"
DROPPED_METADATA = {b"TFLITE_METADATA"}  # describes the original outputs and label file: stale after surgery
BASE_HINT = "use a MobileNet classifier such as tf2_mobilenet_v2_1.0_224_ptq or mobilenet_v2_1.0_224_quant"

_OP_NAMES = {code: name for name, code in vars(schema.BuiltinOperator).items() if not name.startswith("_")}
_TYPES: dict[int, np.dtype] = {
    schema.TensorType.UINT8: np.dtype(np.uint8),
    schema.TensorType.INT8: np.dtype(np.int8),
    schema.TensorType.INT32: np.dtype(np.int32),
    schema.TensorType.FLOAT32: np.dtype(np.float32),
}
_POOLS = ("AVERAGE_POOL_2D", "MEAN")


@dataclass(frozen=True)
class Conv:
    """A 1x1 convolution in real numbers: weights (out, in) and bias (out,)."""

    weights: np.ndarray
    bias: np.ndarray


@dataclass(frozen=True)
class HeadSite:
    """Where the head is: operator and tensor indices in subgraph 0."""

    head_conv: int  # op: pooled -> logits
    pooled: int  # tensor [1,1,1,D]
    head_weights: int
    head_bias: int
    logits: int  # [1,1,1,classes]
    reshape: int  # op
    shape: int  # tensor: RESHAPE's target shape
    squeezed: int  # [1,classes]
    softmax_out: int
    output: int  # the model's output (softmax_out, or the QUANTIZE after it)
    classes: int
    block_conv: int | None  # op: features -> pre-pool activations (the last 1x1 block), if found
    features: int | None  # tensor [1,h,w,C]

    def layer(self, name: str) -> int:
        tensor = {POOLED: self.pooled, FEATURES: self.features}[name]
        if tensor is None:
            raise _nothing_to_fine_tune()
        return tensor

    def block(self) -> int:
        """The last 1x1 block's op, which fine-tuning rewrites."""
        if self.block_conv is None:
            raise _nothing_to_fine_tune()
        return self.block_conv


def _nothing_to_fine_tune() -> EdgeAppError:
    return EdgeAppError("this model has no 1x1 convolution block before its pooling to fine-tune", BASE_HINT)


def cut_name(blocks: int) -> str:
    """The layer name of the input of the top `blocks` blocks (1: FEATURES, the last 1x1 block's input)."""
    return FEATURES if blocks == 1 else f"top{blocks}"


def layer_tensor(model: Any, site: HeadSite, name: str) -> int:
    """POOLED, FEATURES or cut_name(k) -> the tensor in subgraph 0."""
    if name.startswith("top") and name[3:].isdigit():
        return top_part(model, site, int(name[3:])).cut
    return site.layer(name)


# --- reading and writing ----------------------------------------------------------------------


def load(data: bytes, source: str = "the model") -> Any:
    """The model's object tree (schema.ModelT). Bytes after the flatbuffer (the label zip) are ignored."""
    if error := not_a_model(source, data[:HEAD]):
        raise error
    try:
        return schema.ModelT.InitFromPackedBuf(data, 0)
    except Exception:  # a damaged flatbuffer fails anywhere in the generated reader
        raise EdgeAppError(
            f"{source} is not a valid TFLite model (corrupt or truncated)", "download it again or check the path"
        ) from None


class _AlignedBuffer(schema.BufferT):
    """Packs its data 16-byte aligned, as the TFLite converter does."""

    def Pack(self, builder: flatbuffers.Builder) -> int:
        data = None
        if self.data is not None:
            payload = np.asarray(self.data, dtype=np.uint8).tobytes()
            builder.StartVector(1, len(payload), ALIGNMENT)
            builder.head -= len(payload)
            builder.Bytes[builder.head : builder.head + len(payload)] = payload
            data = builder.EndVector()
        schema.BufferStart(builder)
        if data is not None:
            schema.BufferAddData(builder, data)
        schema.BufferAddOffset(builder, self.offset)
        schema.BufferAddSize(builder, self.size)
        return schema.BufferEnd(builder)


def dump(model: Any) -> bytes:
    """Pack a (copy of the) model into flatbuffer bytes with the TFL3 identifier."""
    packed = copy.copy(model)
    packed.buffers = [_aligned(buffer) for buffer in model.buffers]
    size = sum(len(b.data) for b in model.buffers if b.data is not None)
    builder = flatbuffers.Builder(size + (1 << 20))
    builder.Finish(packed.Pack(builder), file_identifier=IDENTIFIER)
    return bytes(builder.Output())


def _aligned(buffer: Any) -> _AlignedBuffer:
    out = _AlignedBuffer()
    out.data, out.offset, out.size = buffer.data, buffer.offset, buffer.size
    return out


def with_labels(model: bytes, labels: Sequence[str]) -> bytes:
    """The flatbuffer followed by a zip holding labels.txt, as the shared models carry theirs.

    The zip is written in append mode onto the model bytes, so its offsets are those of the whole
    file and `unzip -l` and zipfile read it without complaint. One label per line; should a name
    look like "3 rose" (which edge_app.model.labels would read as an id), every line gets its id.
    """
    text = "\n".join(labels) + "\n"
    if parse_labels(text) != dict(enumerate(labels)):
        text = "".join(f"{i} {name}\n" for i, name in enumerate(labels))
    stream = io.BytesIO(model)
    stream.seek(0, io.SEEK_END)
    with zipfile.ZipFile(stream, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zip_entry(LABELS_FILE), text)
    return stream.getvalue()


def zip_entry(name: str) -> zipfile.ZipInfo:
    """An entry stamped with a fixed date, so the same model gives the same bytes at any time."""
    entry = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    entry.compress_type = zipfile.ZIP_DEFLATED
    return entry


# --- looking at the graph ---------------------------------------------------------------------


def op_name(model: Any, op: Any) -> str:
    code = model.operatorCodes[op.opcodeIndex]
    number = max(code.builtinCode, code.deprecatedBuiltinCode)
    name = _OP_NAMES.get(number, f"op {number}")
    if name == "CUSTOM" and code.customCode:
        custom = code.customCode.decode() if isinstance(code.customCode, bytes) else str(code.customCode)
        return f"CUSTOM ({custom})"
    return name


def _producers(graph: Any) -> dict[int, int]:
    return {int(t): i for i, op in enumerate(graph.operators) for t in op.outputs if t >= 0}


def _shape(graph: Any, tensor: int) -> list[int]:
    shape = graph.tensors[tensor].shape
    return [int(d) for d in shape] if shape is not None else []


def tensor_quant(graph: Any, tensor: int) -> Quant:
    q = graph.tensors[tensor].quantization
    if q is None or q.scale is None or len(q.scale) == 0:
        raise EdgeAppError(
            f"tensor {tensor_name(graph, tensor)} is not quantized",
            "train works on integer-quantized models; " + BASE_HINT,
        )
    return Quant(np.asarray(q.scale, np.float32), np.asarray(q.zeroPoint, np.int64), int(q.quantizedDimension))


def tensor_dtype(graph: Any, tensor: int) -> np.dtype:
    kind = graph.tensors[tensor].type
    if kind not in _TYPES:
        raise EdgeAppError(f"tensor {tensor_name(graph, tensor)} has an unsupported type ({kind})", BASE_HINT)
    return _TYPES[kind]


def tensor_name(graph: Any, tensor: int) -> str:
    name = graph.tensors[tensor].name
    return (name.decode(errors="replace") if isinstance(name, bytes) else str(name)).split(";")[0]


def constant(model: Any, tensor: int) -> np.ndarray:
    graph = model.subgraphs[0]
    t = graph.tensors[tensor]
    data = model.buffers[t.buffer].data
    if data is None:
        raise EdgeAppError(f"tensor {tensor_name(graph, tensor)} has no constant data", BASE_HINT)
    return np.frombuffer(np.asarray(data, np.uint8).tobytes(), tensor_dtype(graph, tensor)).reshape(
        _shape(graph, tensor)
    )


def _chain(model: Any, graph: Any, tensor: int, limit: int = 5) -> str:
    """The last few ops that lead to a tensor, first to last, for an error message."""
    producers = _producers(graph)
    names: list[str] = []
    while tensor in producers and len(names) < limit:
        op = graph.operators[producers[tensor]]
        names.append(op_name(model, op))
        inputs = [int(t) for t in op.inputs if t >= 0]
        if not inputs:
            break
        tensor = inputs[0]
    return " -> ".join(reversed(names)) or "no operators"


def _is_1x1_conv(model: Any, graph: Any, op: Any) -> bool:
    if op_name(model, op) != "CONV_2D" or len(op.inputs) < 2:
        return False
    shape = _shape(graph, int(op.inputs[1]))
    return len(shape) == 4 and shape[1:3] == [1, 1]


def find_head(model: Any, source: str = "the model") -> HeadSite:
    """Locate pooled embedding -> CONV_2D 1x1 -> RESHAPE -> SOFTMAX [-> QUANTIZE]; say what was found otherwise."""
    if not model.subgraphs or len(model.subgraphs) != 1:
        raise EdgeAppError(
            f"{source} has {len(model.subgraphs or [])} subgraphs; train needs a single-graph image classifier",
            BASE_HINT,
        )
    graph = model.subgraphs[0]
    outputs = [int(t) for t in graph.outputs]
    expected = "pooled embedding -> CONV_2D 1x1 -> RESHAPE -> SOFTMAX [-> QUANTIZE]"

    def fail(found: str) -> EdgeAppError:
        return EdgeAppError(
            f"{source} does not end in a classifier head train can replace: expected {expected}, found {found}",
            BASE_HINT,
        )

    if len(outputs) != 1:
        raise fail(f"{len(outputs)} outputs")
    output = outputs[0]
    found = f"{_chain(model, graph, output)} (output {_shape(graph, output)})"
    producers = _producers(graph)

    def producer(tensor: int, *names: str) -> Any:
        op = graph.operators[producers[tensor]] if tensor in producers else None
        if op is None or op_name(model, op) not in names:
            raise fail(found)
        return op

    last = producer(output, "SOFTMAX", "QUANTIZE")
    softmax = producer(int(last.inputs[0]), "SOFTMAX") if op_name(model, last) == "QUANTIZE" else last
    reshape = producer(int(softmax.inputs[0]), "RESHAPE")
    head = producer(int(reshape.inputs[0]), "CONV_2D")
    if not _is_1x1_conv(model, graph, head):
        raise fail(found + "; its last convolution is not 1x1")
    pooled = int(head.inputs[0])
    pool = producer(pooled, *_POOLS)
    pooled_shape = _shape(graph, pooled)
    if len(pooled_shape) != 4 or pooled_shape[:3] != [1, 1, 1]:
        raise fail(found + f"; the head's input is {pooled_shape}, not a pooled [1,1,1,D] embedding")
    block_op = producers.get(int(pool.inputs[0]))
    block = graph.operators[block_op] if block_op is not None else None
    if block is not None and not _is_1x1_conv(model, graph, block):
        block = None
    if len(reshape.inputs) < 2 or int(reshape.inputs[1]) < 0:
        raise fail(found + "; its RESHAPE has no shape tensor")
    return HeadSite(
        head_conv=graph.operators.index(head),
        pooled=pooled,
        head_weights=int(head.inputs[1]),
        head_bias=int(head.inputs[2]),
        logits=int(head.outputs[0]),
        reshape=graph.operators.index(reshape),
        shape=int(reshape.inputs[1]),
        squeezed=int(reshape.outputs[0]),
        softmax_out=int(softmax.outputs[0]),
        output=output,
        classes=_shape(graph, output)[-1],
        block_conv=block_op if block is not None else None,
        features=int(block.inputs[0]) if block is not None else None,
    )


def scheme(model: Any, site: HeadSite) -> Scheme:
    """How the base quantizes its head's weights; the new head is quantized the same way."""
    graph = model.subgraphs[0]
    return Scheme(tensor_dtype(graph, site.head_weights), tensor_quant(graph, site.head_weights).per_channel)


def read_conv(model: Any, op_index: int) -> Conv:
    """A quantized 1x1 conv's weights and bias in real numbers."""
    graph = model.subgraphs[0]
    op = graph.operators[op_index]
    weights, bias = int(op.inputs[1]), int(op.inputs[2])
    real_w = tensor_quant(graph, weights).dequantize(constant(model, weights))
    real_b = tensor_quant(graph, bias).dequantize(constant(model, bias))
    return Conv(real_w.reshape(real_w.shape[0], -1), real_b)


@dataclass(frozen=True)
class PartOp:
    """One operator of the trainable top, as the float forward pass and the writer need it."""

    index: int  # operator index in subgraph 0
    kind: str  # "conv" (1x1) | "depthwise" | "add"
    inputs: tuple[int, ...]  # activation tensors
    output: int
    relu6: bool  # fused ReLU6 (else no activation)
    stride: int
    same: bool  # SAME padding (else VALID)
    weights: int = -1  # tensors; -1 for ADD
    bias: int = -1


@dataclass(frozen=True)
class Part:
    """The top `blocks` blocks: from tensor `cut` (frozen below) to the pre-pool activations."""

    blocks: int
    cut: int
    ops: tuple[PartOp, ...]  # forward order


def _part_op(model: Any, graph: Any, index: int, kind: str) -> PartOp:
    op = graph.operators[index]
    options = op.builtinOptions
    act = getattr(options, "fusedActivationFunction", schema.ActivationFunctionType.NONE)
    if act not in (schema.ActivationFunctionType.NONE, schema.ActivationFunctionType.RELU6):
        raise EdgeAppError(
            f"operator {index} ({op_name(model, op)}) has an activation fine-tuning does not model", BASE_HINT
        )
    inputs = [int(t) for t in op.inputs]
    weighted = kind != "add"
    return PartOp(
        index=index,
        kind=kind,
        inputs=tuple(inputs[:1] if weighted else inputs),
        output=int(op.outputs[0]),
        relu6=act == schema.ActivationFunctionType.RELU6,
        stride=int(getattr(options, "strideH", 1) or 1),
        same=getattr(options, "padding", schema.Padding.SAME) == schema.Padding.SAME,
        weights=inputs[1] if weighted else -1,
        bias=inputs[2] if weighted and len(inputs) > 2 else -1,
    )


def top_part(model: Any, site: HeadSite, blocks: int) -> Part:
    """The last 1x1 block and the `blocks - 1` inverted-residual blocks below it; says how many
    there are when the graph has fewer."""
    if blocks < 1:
        raise ValueError("a part has at least the last 1x1 block")
    site.layer(FEATURES)  # the "nothing to fine-tune" error
    graph = model.subgraphs[0]
    producers = _producers(graph)
    ops = [_part_op(model, graph, site.block(), "conv")]
    tensor = ops[0].inputs[0]

    def made_by(t: int, name: str) -> int | None:
        index = producers.get(t)
        return index if index is not None and op_name(model, graph.operators[index]) == name else None

    def block_below(t: int) -> tuple[list[PartOp], int] | None:
        """The inverted-residual block whose output is t: its ops and its input."""
        add = made_by(t, "ADD")
        candidates = [int(x) for x in graph.operators[add].inputs] if add is not None else [t]
        for project_out in candidates:
            project = made_by(project_out, "CONV_2D")
            depthwise = (
                made_by(int(graph.operators[project].inputs[0]), "DEPTHWISE_CONV_2D") if project is not None else None
            )
            expand = made_by(int(graph.operators[depthwise].inputs[0]), "CONV_2D") if depthwise is not None else None
            if expand is None or project is None or depthwise is None:
                continue
            start = int(graph.operators[expand].inputs[0])
            if not all(_is_1x1_conv(model, graph, graph.operators[i]) for i in (expand, project)):
                continue
            found = [
                _part_op(model, graph, expand, "conv"),
                _part_op(model, graph, depthwise, "depthwise"),
                _part_op(model, graph, project, "conv"),
            ]
            if add is None:
                return found, start
            if sorted(candidates) == sorted([project_out, start]):
                return [*found, _part_op(model, graph, add, "add")], start
        return None

    for done in range(1, blocks):
        below = block_below(tensor)
        if below is None:
            raise EdgeAppError(
                f"--fine-tune {blocks}: below its last 1x1 block this model has {done - 1} "
                "inverted-residual block(s) train can fine-tune",
                f"use --fine-tune {done} or less",
            )
        found, tensor = below
        ops = found + ops
    return Part(blocks, tensor, tuple(ops))


@dataclass(frozen=True)
class Retrained:
    """New real-valued weights for a part (per op: (weights, bias) in the file's layout, or None
    for an ADD) and the calibrated (low, high) range of the outputs that are not ReLU6-bounded."""

    blocks: int
    weights: tuple[tuple[np.ndarray, np.ndarray] | None, ...]
    ranges: dict[int, tuple[float, float]]  # op position in Part.ops -> output range


def read_part(model: Any, part: Part) -> list[tuple[np.ndarray, np.ndarray] | None]:
    """The part's weights and biases in real numbers, in the file's layout ((out, kh, kw, in) or (1, kh, kw, C))."""
    graph = model.subgraphs[0]
    found: list[tuple[np.ndarray, np.ndarray] | None] = []
    for op in part.ops:
        if op.kind == "add":
            found.append(None)
            continue
        weights = tensor_quant(graph, op.weights).dequantize(constant(model, op.weights))
        found.append((weights, tensor_quant(graph, op.bias).dequantize(constant(model, op.bias))))
    return found


# --- changing the graph -----------------------------------------------------------------------


def _set_quant(graph: Any, tensor: int, quant: Quant) -> None:
    q = schema.QuantizationParametersT()
    q.scale = [float(s) for s in quant.scale]
    q.zeroPoint = [int(z) for z in quant.zero_point]
    q.quantizedDimension = quant.dim
    graph.tensors[tensor].quantization = q


def _set_constant(model: Any, tensor: int, values: np.ndarray, shape: Sequence[int]) -> None:
    """New data for a constant tensor, in its own buffer (replaced, so the old data is gone)."""
    graph = model.subgraphs[0]
    t = graph.tensors[tensor]
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(np.ascontiguousarray(values).tobytes(), np.uint8)
    if t.buffer == 0 or sum(1 for other in graph.tensors if other.buffer == t.buffer) > 1:
        model.buffers.append(buffer)
        t.buffer = len(model.buffers) - 1
    else:
        model.buffers[t.buffer] = buffer
    _set_shape(graph, tensor, shape)


def _set_shape(graph: Any, tensor: int, shape: Sequence[int]) -> None:
    t = graph.tensors[tensor]
    t.shape = [int(d) for d in shape]
    if t.shapeSignature is not None and len(t.shapeSignature):
        t.shapeSignature = [int(d) for d in shape]


def _write_conv(model: Any, op_index: int, conv: Conv, scheme_: Scheme, output_quant: Quant | None = None) -> None:
    """Replace a 1x1 conv's weights and bias (quantized with the scheme) and optionally its output quantization."""
    graph = model.subgraphs[0]
    op = graph.operators[op_index]
    weights, bias, out = int(op.inputs[1]), int(op.inputs[2]), int(op.outputs[0])
    input_scale = float(tensor_quant(graph, int(op.inputs[0])).scale[0])
    q_weights, w_quant = quantize_weights(conv.weights, scheme_)
    q_bias, b_quant = quantize_bias(conv.bias, input_scale, w_quant)
    count, depth = conv.weights.shape
    _set_constant(model, weights, q_weights, [count, 1, 1, depth])
    _set_quant(graph, weights, w_quant)
    _set_constant(model, bias, q_bias, [count])
    _set_quant(graph, bias, b_quant)
    if output_quant is not None:
        _set_quant(graph, out, output_quant)


def _write_depthwise(model: Any, op: PartOp, weights: np.ndarray, bias: np.ndarray, scheme_: Scheme) -> None:
    """A depthwise conv's (1, kh, kw, C) weights, quantized per channel along dim 3 where the scheme is."""
    graph = model.subgraphs[0]
    input_scale = float(tensor_quant(graph, op.inputs[0]).scale[0])
    channels_first = np.moveaxis(weights, 3, 0)
    q_first, w_quant = quantize_weights(channels_first, scheme_)
    w_quant = Quant(w_quant.scale, w_quant.zero_point, 3 if w_quant.per_channel else 0)
    q_bias, b_quant = quantize_bias(bias, input_scale, w_quant)
    _set_constant(model, op.weights, np.moveaxis(q_first, 0, 3), weights.shape)
    _set_quant(graph, op.weights, w_quant)
    _set_constant(model, op.bias, q_bias, [len(bias)])
    _set_quant(graph, op.bias, b_quant)


def _write_part(model: Any, site: HeadSite, retrained: Retrained) -> None:
    """Outputs' calibrated ranges and requantized weights, op by op in forward order (a bias's
    scale depends on its input's, which the op before has just set)."""
    graph = model.subgraphs[0]
    part = top_part(model, site, retrained.blocks)
    kind = scheme(model, site)
    for position, (op, new) in enumerate(zip(part.ops, retrained.weights)):
        if position in retrained.ranges:
            low, high = retrained.ranges[position]
            _set_quant(graph, op.output, activation_quant(low, high, tensor_dtype(graph, op.output)))
        if new is None:
            continue
        weights, bias = new
        if op.kind == "depthwise":
            _write_depthwise(model, op, weights, bias, kind)
        else:
            _write_conv(model, op.index, Conv(weights.reshape(len(weights), -1), bias), kind)


def _new_head(model: Any, site: HeadSite, head: Head) -> None:
    graph = model.subgraphs[0]
    classes = head.weights.shape[0]
    low, high = head.logit_range
    span = max(high - low, 1e-6)
    logits_quant = activation_quant(
        low - LOGIT_MARGIN * span, high + LOGIT_MARGIN * span, tensor_dtype(graph, site.logits)
    )
    _write_conv(model, site.head_conv, Conv(head.weights, head.bias), scheme(model, site), logits_quant)
    _set_shape(graph, site.logits, [1, 1, 1, classes])
    _set_constant(model, site.shape, np.array([1, classes], np.int32), [2])
    reshape = graph.operators[site.reshape]
    if reshape.builtinOptions is not None and getattr(reshape.builtinOptions, "newShape", None) is not None:
        reshape.builtinOptions.newShape = [1, classes]
    _set_shape(graph, site.squeezed, [1, classes])
    _set_quant(graph, site.squeezed, logits_quant)  # RESHAPE keeps its input's quantization
    for tensor in {site.softmax_out, site.output}:
        _set_shape(graph, tensor, [1, classes])


def _prune(model: Any, inputs: Sequence[int], outputs: Sequence[int]) -> Any:
    """A copy computing `outputs` from `inputs`, keeping only the ops, tensors, buffers and
    operator codes needed, renumbered. Signatures (which name old tensor numbers) are dropped."""
    graph = model.subgraphs[0]
    producers = _producers(graph)
    needed_ops: set[int] = set()
    stack, seen = list(outputs), set(inputs)
    while stack:
        tensor = stack.pop()
        if tensor in seen:
            continue
        seen.add(tensor)
        if tensor in producers:
            needed_ops.add(producers[tensor])
            stack.extend(int(t) for t in graph.operators[producers[tensor]].inputs if t >= 0)
    ops = [copy.copy(op) for i, op in enumerate(graph.operators) if i in needed_ops]
    used = set(inputs) | set(outputs)
    for op in ops:
        used.update(int(t) for t in _tensor_refs(op) if t >= 0)
    tensor_map = {old: new for new, old in enumerate(sorted(used))}
    tensors = [copy.copy(graph.tensors[old]) for old in sorted(used)]

    buffer_keep = sorted({0} | {t.buffer for t in tensors} | {m.buffer for m in _kept_metadata(model)})
    buffer_map = {old: new for new, old in enumerate(buffer_keep)}
    for t in tensors:
        t.buffer = buffer_map[t.buffer]
    code_keep = sorted({op.opcodeIndex for op in ops})
    code_map = {old: new for new, old in enumerate(code_keep)}
    for op in ops:
        op.opcodeIndex = code_map[op.opcodeIndex]
        op.inputs = [tensor_map[int(t)] if t >= 0 else -1 for t in op.inputs]
        op.outputs = [tensor_map[int(t)] for t in op.outputs]
        if op.intermediates is not None and len(op.intermediates):
            op.intermediates = [tensor_map[int(t)] for t in op.intermediates]

    out = copy.copy(model)
    sub = copy.copy(graph)
    sub.operators, sub.tensors = ops, tensors
    sub.inputs = [tensor_map[t] for t in inputs]
    sub.outputs = [tensor_map[t] for t in outputs]
    out.subgraphs = [sub]
    out.buffers = [model.buffers[old] for old in buffer_keep]
    out.operatorCodes = [model.operatorCodes[old] for old in code_keep]
    out.metadata = [_moved(m, buffer_map[m.buffer]) for m in _kept_metadata(model)] or None
    out.metadataBuffer = None
    out.signatureDefs = None
    return out


def _tensor_refs(op: Any) -> Iterable[int]:
    yield from op.inputs
    yield from op.outputs
    if op.intermediates is not None:
        yield from op.intermediates


def _kept_metadata(model: Any) -> list[Any]:
    return [m for m in model.metadata or [] if m.name not in DROPPED_METADATA]


def _moved(metadata: Any, buffer: int) -> Any:
    moved = copy.copy(metadata)
    moved.buffer = buffer
    return moved


def _fresh(data: bytes, source: str) -> tuple[Any, HeadSite]:
    model = load(data, source)
    return model, find_head(model, source)


# --- the public builders ----------------------------------------------------------------------


def extractor_model(base: bytes, layers: Sequence[str] = (POOLED,), source: str = "the base model") -> bytes:
    """The base cut so that its outputs are the given layers (POOLED: the [1,1,1,D] embedding;
    FEATURES: the input of the last 1x1 block), everything after them pruned."""
    model, site = _fresh(base, source)
    graph = model.subgraphs[0]
    return dump(_prune(model, [int(t) for t in graph.inputs], [layer_tensor(model, site, name) for name in layers]))


def classifier_model(
    base: bytes,
    head: Head,
    labels: Sequence[str],
    block: Conv | Retrained | None = None,
    source: str = "the base model",
) -> bytes:
    """The base with `head` (real-valued, acting on the dequantized pooled embedding) in place of
    its classifier, quantized like the base; `block` replaces the last 1x1 conv before pooling
    (a Conv) or the top blocks (Retrained) (fine-tuning). Stale metadata goes, the labels are embedded."""
    if head.weights.shape[0] != len(labels):
        raise ValueError(f"{head.weights.shape[0]} head outputs but {len(labels)} labels")
    model, site = _fresh(base, source)
    graph = model.subgraphs[0]
    if head.weights.shape[1] != _shape(graph, site.pooled)[-1]:
        raise ValueError(
            f"head takes {head.weights.shape[1]} values, the embedding has {_shape(graph, site.pooled)[-1]}"
        )
    if isinstance(block, Conv):
        block = Retrained(1, ((block.weights, block.bias),), {})
    if block is not None:
        _write_part(model, site, block)
    _new_head(model, site, head)
    model.description = f"edge-app train: {len(labels)} classes".encode()
    pruned = _prune(model, [int(t) for t in graph.inputs], [site.output])  # drops the old head's orphans, if any
    return with_labels(dump(pruned), labels)


def dual_output_model(classifier: bytes) -> bytes:
    """A classifier whose second output is its pooled embedding, computed anyway on the way to
    the scores: the live view can keep each frame's embedding at no extra cost (for teaching).
    The first output is unchanged, so everything reading output 0 works as before."""
    model, site = _fresh(classifier, "the classifier")
    graph = model.subgraphs[0]
    graph.outputs = [site.output, site.pooled]
    labels = _zip_labels(classifier)
    return with_labels(dump(model), labels) if labels else dump(model)


def _zip_labels(data: bytes) -> list[str] | None:
    found = embedded_labels(data)
    return [found[i] for i in sorted(found)] if found else None


def tail_model(model: bytes, start: str, end: str = "scores") -> bytes:
    """The part of a model from layer `start` (POOLED, FEATURES or a cut_name) to `end`
    ("scores" or POOLED): fed cached embeddings, it gives exactly what the whole model would."""
    tree, site = _fresh(model, "the model")
    stop = site.output if end == "scores" else layer_tensor(tree, site, end)
    return dump(_prune(tree, [layer_tensor(tree, site, start)], [stop]))
