"""Batch mode (`edge-app run --no-realtime`) vs a plain serial loop and the bare invoke rate.

Targets (issue 3): batch >= 1.3x the serial loop (read, preprocess, invoke, draw, encode one
frame at a time, best thread count) and >= 0.85x the bare invoke rate at the same threads.
All three are measured in this one run, on the same 640x480 video.

    python benchmarks/bench_batch.py [--frames 900] [--model mobilenet_v2_1.0_224_quant] [--threads N]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import _common  # noqa: F401  (paths, model cache)
import cv2
import numpy as np

from edge_app.model.classifier import Classifier, ModelOptions
from edge_app.model.runtime import load_runtime
from edge_app.pipeline import Pipeline, PipelineOptions
from edge_app.pipeline.capture import CaptureOptions
from edge_app.sinks.events import EventsSink
from edge_app.sinks.recorder import RecorderSink
from edge_app.sources.video import VideoFileSource


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
        fh, fw = frame.shape[:2]
        ch, cw = round(fh * 0.875), round(fw * 0.875)
        crop = frame[(fh - ch) // 2 : (fh - ch) // 2 + ch, (fw - cw) // 2 : (fw - cw) // 2 + cw]
        rgb = cv2.cvtColor(cv2.resize(crop, (w, h), interpolation=cv2.INTER_LINEAR), cv2.COLOR_BGR2RGB)
        interpreter.set_tensor(inp["index"], rgb[np.newaxis])
        interpreter.invoke()
        best = int(np.argmax(interpreter.get_tensor(out["index"])[0]))
        cv2.putText(frame, f"class {best}", (10, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (255, 255, 255), 2)
        cv2.imencode(".jpg", frame)
        frames += 1
    return frames / (time.perf_counter() - start)


def batch_fps(video: Path, model: str, threads: int, record: bool) -> tuple[float, int]:
    classifier = Classifier.open(ModelOptions(model=model, threads=threads))
    with tempfile.TemporaryDirectory() as tmp:
        events = EventsSink(os.path.join(tmp, "events.jsonl"))
        sinks = [events] + ([RecorderSink(os.path.join(tmp, "out.avi"), 30.0)] if record else [])
        pipeline = Pipeline(VideoFileSource(video), classifier, sinks, PipelineOptions(capture=CaptureOptions(realtime=False)))
        start = time.perf_counter()
        pipeline.run()
        elapsed = time.perf_counter() - start
    return pipeline.state.counters["classified"] / elapsed, events.written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=900)
    parser.add_argument("--model", default="mobilenet_v2_1.0_224_quant")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    model_path = _common.MODELS / f"{args.model}.tflite"
    video = _common.video(Path(tempfile.gettempdir()) / f"edge-app-bench-{args.frames}.avi", args.frames)

    serial = {t: serial_loop_fps(video, model_path, t) for t in range(1, (os.cpu_count() or 1) + 1)}
    best_threads = max(serial, key=serial.get)
    ours, events = batch_fps(video, args.model, args.threads, record=False)
    ours_rec, _ = batch_fps(video, args.model, args.threads, record=True)
    bare = bare_invoke_fps(model_path, args.threads, runs=args.frames)

    print(f"model {args.model}, {args.frames} frames 640x480, {args.threads} interpreter threads")
    print("serial loop fps by threads: " + ", ".join(f"{t}: {fps:.1f}" for t, fps in serial.items()))
    print(f"events written: {events} (one per frame: {'yes' if events == args.frames else 'NO'})")
    print(_common.ratio_line("batch (events) vs serial loop", ours, serial[best_threads], 1.3))
    print(_common.ratio_line("batch (events) vs bare invoke", ours, bare, 0.85))
    print(_common.ratio_line("batch (events + recording) vs serial loop", ours_rec, serial[best_threads], 1.3))


if __name__ == "__main__":
    main()
