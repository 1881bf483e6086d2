"""How one run behaves, as plain values decided before it starts."""

from __future__ import annotations

from dataclasses import dataclass, field

from edge_app.pipeline.capture import CaptureOptions


@dataclass(frozen=True)
class PipelineOptions:
    capture: CaptureOptions = field(default_factory=CaptureOptions)
    overlay: bool = True
    smooth: int = 1
    duration: float | None = None
    stall_s: float = 1.0  # no frame for this long: sinks get a "no signal" card instead
    error_window_s: float = 10.0  # inference failing this long without a success is fatal
    queue_size: int = 4  # batch mode: frames in flight between two stages, per lane

    @property
    def batch(self) -> bool:
        """Every frame classified in order (files with --no-realtime); else the newest frame wins.
        The caller decides it once, through capture.realtime (a live source is never batch)."""
        return not self.capture.realtime
