"""Batch mode (`edge-app run --no-realtime`) vs a plain serial loop and the bare invoke rate.

Targets (issue 3): batch >= 1.3x the serial loop (read, preprocess, invoke, draw, encode one
frame at a time, best thread count) and >= 0.85x the bare invoke rate at the same threads.
All three are measured in this one run, on the same 640x480 video. "Ours" is the real
`edge-app run --no-realtime --events FILE`, model loading included.

    python benchmarks/bench_batch.py [--frames 900] [--model mobilenet_v2_1.0_224_quant] [--threads N]

`--ours-only --json` times only the real run and prints its figures as one JSON line (what
compare_revisions.py reads to set two code trees side by side).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from statistics import median

import _common  # noqa: F401  (paths, model cache)
import cv2
import numpy as np
from _common import bare_input

from edge_app.model.runtime import load_runtime


def bare_invoke_fps(model: Path, threads: int, runs: int) -> float:
    interpreter = load_runtime().Interpreter(model_path=str(model), num_threads=threads)
    interpreter.allocate_tensors()
    detail = interpreter.get_input_details()[0]
    interpreter.set_tensor(detail["index"], np.zeros(detail["shape"], detail["dtype"]))
    for _ in range(10):
        interpreter.invoke()
    start = time.perf_counter()
    for _ in range(runs):
        interpreter.invoke()
    return runs / (time.perf_counter() - start)


def serial_loop_fps(video: Path, model: Path, threads: int) -> float:
    """What most camera examples do: one frame at a time, every step in turn."""
    interpreter = load_runtime().Interpreter(model_path=str(model), num_threads=threads)
    interpreter.allocate_tensors()
    inp = interpreter.get_input_details()[0]
    out = interpreter.get_output_details()[0]
    h, w = inp["shape"][1:3]
    capture = cv2.VideoCapture(str(video))
    frames = 0
    start = time.perf_counter()
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        interpreter.set_tensor(inp["index"], bare_input(frame, w, h))
        interpreter.invoke()
        best = int(np.argmax(interpreter.get_tensor(out["index"])[0]))
        cv2.putText(frame, f"class {best}", (10, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (255, 255, 255), 2)
        cv2.imencode(".jpg", frame)
        frames += 1
    return frames / (time.perf_counter() - start)


def batch_fps(video: Path, model: str, record: bool) -> tuple[float, int]:
    """`edge-app run --no-realtime` exactly as a user runs it (in this process), timed end to end."""
    from edge_app.cli import main as edge_app

    with tempfile.TemporaryDirectory() as tmp:
        events = Path(tmp, "events.jsonl")
        args = [
            "run",
            "--source",
            str(video),
            "--no-realtime",
            "--model",
            model,
            "--events",
            str(events),
            "--log-level",
            "warning",
        ]
        if record:
            args += ["--record", str(Path(tmp, "out.avi"))]
        start = time.perf_counter()
        try:
            edge_app(args)
        except SystemExit as exit:
            if exit.code:
                raise
        elapsed = time.perf_counter() - start
        written = sum(1 for _ in events.open())
    return written / elapsed, written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=1800)
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="alternating rounds; medians are reported (the machine is shared and noisy)",
    )
    parser.add_argument("--model", default="mobilenet_v2_1.0_224_quant")
    parser.add_argument(
        "--threads",
        type=int,
        default=os.cpu_count() or 1,
        help="the thread budget: edge-app's default (every core) and the bare loop's",
    )
    parser.add_argument("--record", action="store_true", help="also time a run that records the annotated video")
    parser.add_argument("--ours-only", action="store_true", help="time only edge-app's run, not the baselines")
    parser.add_argument("--json", action="store_true", help="end with the figures as one JSON line")
    args = parser.parse_args()
    model_path = _common.MODELS / f"{args.model}.tflite"
    video = _common.video(Path(tempfile.gettempdir()) / f"edge-app-bench-{args.frames}.avi", args.frames)

    if args.ours_only:
        runs = [batch_fps(video, args.model, record=False) for _ in range(args.rounds)]
        print("per round, ours: " + ", ".join(f"{fps:.1f}" for fps, _ in runs))
        if args.json:
            print(json.dumps({"batch_fps": median(fps for fps, _ in runs), "events": runs[-1][1]}))
        return
    serial: dict[int, list[float]] = {t: [] for t in range(1, (os.cpu_count() or 1) + 1)}
    ours, bare, recorded, events = [], [], [], 0
    for _ in range(args.rounds):
        for threads in serial:
            serial[threads].append(serial_loop_fps(video, model_path, threads))
        fps, events = batch_fps(video, args.model, record=False)
        ours.append(fps)
        bare.append(bare_invoke_fps(model_path, args.threads, runs=min(args.frames, 600)))
        if args.record:
            recorded.append(batch_fps(video, args.model, record=True)[0])
    best_threads = max(serial, key=lambda t: median(serial[t]))
    best_serial = median(serial[best_threads])

    print(
        f"model {args.model}, {args.frames} frames 640x480, thread budget {args.threads}, median of "
        f"{args.rounds} alternating rounds"
    )
    print("serial loop fps by threads: " + ", ".join(f"{t}: {median(v):.1f}" for t, v in serial.items()))
    print("per round, ours / bare: " + ", ".join(f"{o:.1f} / {b:.1f}" for o, b in zip(ours, bare)))
    print(f"events written: {events} (one per frame: {'yes' if events == args.frames else 'NO'})")
    print(_common.ratio_line("batch vs serial loop (best threads)", median(ours), best_serial, 1.3))
    print(_common.ratio_line("batch vs bare invoke (same threads)", median(ours), median(bare), 0.85))
    if recorded:
        print(_common.ratio_line("batch + --record vs serial loop", median(recorded), best_serial, 1.3))
    if args.json:
        figures = {"batch_fps": median(ours), "serial_fps": best_serial, "bare_fps": median(bare), "events": events}
        print(json.dumps(figures | ({"record_fps": median(recorded)} if recorded else {})))


if __name__ == "__main__":
    main()
