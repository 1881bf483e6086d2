"""`models inspect` as text: the block table, MobileNetV2's Table 2 rows, and where the work sits."""

from __future__ import annotations

from edge_app.model.architecture import Architecture
from edge_app.model.profile import Profile

SPREAD_WARNING = 0.5  # a prefix whose timings spread more than this (p90-p10 over median) makes a shaky profile


def _millions(n: int) -> str:
    if n == 0:
        return "0"
    return f"{n / 1e6:.2f} M" if n >= 1e5 else f"{n / 1e3:.1f} k"


def _shape(shape: list[int]) -> str:
    return "x".join(str(d) for d in shape[1:]) if len(shape) > 1 else "x".join(map(str, shape))


def format_text(name: str, arch: Architecture, profile: Profile | None = None) -> str:
    saving = arch.standard_macs / arch.macs if arch.macs else 1.0
    lines = [
        f"{name}: {_millions(arch.params)} parameters, {arch.macs / 1e6:.1f} M multiply-accumulates per frame",
        f"depthwise separable saving: standard 3x3 convolutions in place of each depthwise + pointwise pair "
        f"would need {arch.standard_macs / 1e6:.1f} M MACs, {saving:.1f}x as many",
        f"quantization: {arch.quantization.describe()}",
        "",
    ]
    header = f"{'#':>2}  {'block':<19} {'t':>2} {'c':>5} {'s':>2}  {'input':<12} {'output':<12} {'res':<3} "
    header += f"{'params':>9} {'MACs':>9} {'std 3x3':>9} {'saving':>6}"
    if profile is not None:
        header += f" {'ms':>7} {'share':>6}"
    lines.append(header)
    for i, block in enumerate(arch.blocks):
        row_saving = block.standard_macs / block.macs if block.macs else 1.0
        row = (
            f"{i:>2}  {block.kind:<19} {block.t:>2} {block.c:>5} {block.s:>2}  {_shape(block.input):<12} "
            f"{_shape(block.output):<12} {'yes' if block.residual else '':<3} {_millions(block.params):>9} "
            f"{_millions(block.macs):>9} {_millions(block.standard_macs):>9} {row_saving:>5.1f}x"
        )
        if profile is not None and block.ms is not None:
            row += f" {block.ms:>7.3f} {block.ms / profile.invoke_ms:>6.1%}"
        lines.append(row)
    stages = arch.stages()
    if stages:
        lines += ["", "inverted residual stages, as in the MobileNetV2 paper's Table 2 (derived from the graph):"]
        lines.append(f"  {'t':>2} {'c':>5} {'n':>2} {'s':>2}")
        lines += [f"  {s.t:>2} {s.c:>5} {s.n:>2} {s.s:>2}" for s in stages]
        linear = sum(b.linear for b in arch.blocks if b.kind == "inverted_residual")
        total = sum(b.kind == "inverted_residual" for b in arch.blocks)
        lines.append(f"  {linear} of {total} blocks end in a linear bottleneck (a projection with no activation)")
    lines += ["", "where the work sits, by operator kind:"]
    for kind, totals in arch.by_kind().items():
        if totals["macs"] or totals["params"]:
            share = totals["macs"] / arch.macs if arch.macs else 0.0
            macs, params = _millions(totals["macs"]), _millions(totals["params"])
            lines.append(f"  {kind:<16} {macs:>9} MACs ({share:>5.1%})  {params:>9} params")
    if profile is not None:
        lines += ["", profile_summary(profile)]
    return "\n".join(lines)


def profile_summary(profile: Profile) -> str:
    text = (
        f"blocks add up to {profile.blocks_ms:.3f} ms against {profile.invoke_ms:.3f} ms for a whole invoke "
        f"({profile.agreement:.1%})"
    )
    if profile.spread > SPREAD_WARNING:
        text += (
            f"\nwarning: timings spread by up to {profile.spread:.0%} between rounds (a busy machine?): "
            "small blocks may read as 0 or below; run again on a quiet machine or with more --rounds"
        )
    return text


def as_json(name: str, arch: Architecture, profile: Profile | None = None) -> dict[str, object]:
    out: dict[str, object] = {"model": name, **arch.as_dict()}
    if profile is not None:
        out["blocks_ms"] = round(profile.blocks_ms, 4)
        out["invoke_ms"] = round(profile.invoke_ms, 4)
        out["agreement"] = round(profile.agreement, 4)
        out["spread"] = round(profile.spread, 4)
    return out
