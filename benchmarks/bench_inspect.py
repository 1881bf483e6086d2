"""`models inspect --profile`: do the blocks' times add up to a whole invoke?

Target (issue 21): the sum of the per-block times (differences of graph prefixes, timed in
interleaved rounds) is within 10 % of a bare interpreter's invoke of the whole model, both
measured in this one run. Also prints where the milliseconds go, by block kind.

    python benchmarks/bench_inspect.py [--model NAME ...] [--threads N] [--rounds 30]
"""

from __future__ import annotations

import argparse
import os
from collections import defaultdict

import _common  # noqa: F401  (catalog names resolve to ../shared/models, offline)

from edge_app.model import architecture, catalog
from edge_app.model.profile import interpreter_timer, measure, prefixes

MODELS = ("tf2_mobilenet_v2_1.0_224_ptq", "mobilenet_v2_1.0_224_quant", "mobilenet_v1_0.5_160_quant")
TOLERANCE = 0.10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", help="catalog name or path (repeatable)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    for name in args.model or MODELS:
        path, _ = catalog.resolve(name)
        data = path.read_bytes()
        arch = architecture.read(data)
        timers = [interpreter_timer(prefix, args.threads) for prefix in prefixes(data, arch)]
        result = measure(timers, interpreter_timer(path, args.threads), args.rounds)
        ratio = result.agreement
        verdict = "ok" if abs(ratio - 1) <= TOLERANCE else "OUTSIDE TARGET"
        print(
            f"{path.stem:<32} blocks {result.blocks_ms:7.3f} ms  whole invoke {result.invoke_ms:7.3f} ms  "
            f"ratio {ratio:5.3f}  (target 1 +- {TOLERANCE:.2f}: {verdict}; spread {result.spread:.0%})"
        )
        by_kind: dict[str, float] = defaultdict(float)
        for block, ms in zip(arch.blocks, result.block_ms, strict=True):
            by_kind[block.kind] += ms
        print("    " + ", ".join(f"{kind} {ms:.2f} ms ({ms / result.invoke_ms:.0%})" for kind, ms in by_kind.items()))


if __name__ == "__main__":
    main()
