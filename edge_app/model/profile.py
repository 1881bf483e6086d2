"""Where an invoke's time goes, block by block, measured rather than estimated.

The graph is cut after each block with the project's own surgery (the prefix from the input to
that block's output), and every prefix is timed like `edge-app bench`. A block's time is its
prefix's time less the previous one's. Prefixes and the whole model are timed in interleaved
rounds (each round times every one of them once, in order), so a slow moment of the machine
hits them all alike instead of one block, and the median over rounds is kept.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge_app.model.architecture import Architecture


@dataclass(frozen=True)
class Profile:
    block_ms: list[float]
    invoke_ms: float  # the whole model, as it is
    spread: float  # the largest relative spread (p90-p10 over median) of any prefix across rounds

    @property
    def blocks_ms(self) -> float:
        return float(sum(self.block_ms))

    @property
    def agreement(self) -> float:
        """How the blocks' sum compares with a whole invoke (1.0 = exactly)."""
        return self.blocks_ms / self.invoke_ms if self.invoke_ms > 0 else float("nan")


def prefixes(data: bytes, arch: Architecture) -> list[bytes]:
    """The model cut after each block: prefix k computes blocks 0..k."""
    from edge_app.train import surgery

    model = surgery.load(data)
    inputs = [arch.input_tensor]
    return [surgery.dump(surgery._prune(model, inputs, [block.end_tensor])) for block in arch.blocks]


Timer = Callable[[], float]  # one invoke, in milliseconds


def interpreter_timer(model: Path | bytes, threads: int, runtime: str = "auto") -> Timer:
    from edge_app.model.classifier import make_interpreter
    from edge_app.model.runtime import load_runtime

    interpreter = make_interpreter(load_runtime(runtime), model, threads, None)
    detail = interpreter.get_input_details()[0]
    rng = np.random.default_rng(0)
    interpreter.set_tensor(
        detail["index"], rng.integers(0, 256, detail["shape"], dtype=np.uint8).astype(detail["dtype"])
    )
    invoke, clock = interpreter.invoke, time.perf_counter

    def once() -> float:
        start = clock()
        invoke()
        return (clock() - start) * 1000.0

    for _ in range(5):  # warm-up: first invokes allocate and fill caches
        once()
    return once


def measure(timers: Sequence[Timer], whole: Timer, rounds: int = 30, per_round: int = 3) -> Profile:
    """Interleaved rounds over every prefix and the whole model; medians over rounds."""
    samples = np.empty((rounds, len(timers) + 1))
    for r in range(rounds):
        for k, timer in enumerate([*timers, whole]):
            samples[r, k] = min(timer() for _ in range(per_round))
    medians = np.median(samples, axis=0)
    p10, p90 = np.percentile(samples, [10, 90], axis=0)
    spread = float(np.max((p90 - p10) / np.maximum(medians, 1e-9)))
    cumulative = medians[:-1]
    block_ms = np.diff(np.concatenate([[0.0], cumulative]))
    return Profile([float(v) for v in block_ms], float(medians[-1]), spread)


def profile(path: Path, arch: Architecture, threads: int, rounds: int = 30) -> Profile:
    data = path.read_bytes()
    timers = [interpreter_timer(prefix, threads) for prefix in prefixes(data, arch)]
    return measure(timers, interpreter_timer(path, threads), rounds)
