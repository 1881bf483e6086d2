"""Wiring and lifecycle of `edge-app run`.

Real time (cameras, streams, paced files), see live.py:
    capture thread -> Latest slot -> inference thread (newest frame only) -> newest Result
                               \\-> display thread: every frame + newest Result -> sinks
Batch (`--no-realtime`, files), see batch.py: every frame is classified; decoding, inference
on one or more interpreter lanes, and in-order output overlap through small bounded queues.

core.py runs a wiring; parts.py is what it is given; steps.py is all a wiring may use, one part per job:
supervisor.py (threads, heartbeats, the first failure), inference.py (classify, and when failures are fatal),
publisher.py (smoothing and results out), display.py (pictures out); capture.py, state.py and options.py are
the stages' inputs and state. One stop event ends everything; every thread waits with a timeout and beats a
heartbeat, so a stuck thread is visible to the systemd watchdog.
"""

from edge_app.pipeline.core import Pipeline
from edge_app.pipeline.options import PipelineOptions
from edge_app.pipeline.parts import Hooks, Parts

__all__ = ["Hooks", "Parts", "Pipeline", "PipelineOptions"]
