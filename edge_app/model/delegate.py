"""The Coral Edge TPU delegate: load it, or say exactly why it cannot be used."""

from __future__ import annotations

import contextlib
import gc
import platform
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from edge_app.errors import EdgeAppError, first_line

DELEGATE_MODES = ("cpu", "edgetpu", "auto")
EDGETPU_LIBRARY = {
    "Linux": "libedgetpu.so.1",
    "Darwin": "libedgetpu.1.dylib",
    "Windows": "edgetpu.dll",
}
_DEVICE = re.compile(r"^(usb|pci)(:\d+)?$")

NO_LIBRARY_HINT = (
    "install the Edge TPU runtime: add the Coral apt repository and "
    "sudo apt install libedgetpu1-std (see README, Coral Edge TPU)"
)
NO_DEVICE_HINT = (
    "check that the Coral is plugged in (USB 3 port, or the PCIe card's apex driver), that its "
    "udev rules are installed, and that this user is in the plugdev (USB) or apex (PCIe) group; "
    "then unplug and replug it"
)


def edgetpu_library(system: str | None = None) -> str:
    return EDGETPU_LIBRARY.get(system or platform.system(), "libedgetpu.so.1")


def check_device(device: str | None) -> str | None:
    if device is None or device == "":
        return None
    if not _DEVICE.match(device):
        raise EdgeAppError(f"bad --device {device!r}", "use usb, usb:N, pci or pci:N")
    return device


@contextlib.contextmanager
def _quiet_failed_delegate() -> Iterator[None]:
    """LiteRT's Delegate.__del__ raises on a half-built delegate and Python prints that as a
    traceback ("Exception ignored in ..."). Swallow exactly those while a failed load is freed."""
    previous = sys.unraisablehook

    def hook(info: Any) -> None:
        if "Delegate.__del__" not in repr(getattr(info, "object", "")):
            previous(info)

    sys.unraisablehook = hook
    try:
        yield
        gc.collect()
    finally:
        sys.unraisablehook = previous


def load_edgetpu(load_delegate: Callable[..., Any], device: str | None = None) -> Any:
    """Return the Edge TPU delegate, or raise EdgeAppError naming the cause and the fix."""
    library = edgetpu_library()
    options = {"device": device} if device else {}
    failure: tuple[str, str] | None = None
    with _quiet_failed_delegate():
        try:
            return load_delegate(library, options)
        except OSError as exc:
            failure = (f"Edge TPU library {library} could not be loaded ({first_line(exc)})", NO_LIBRARY_HINT)
        except (ValueError, RuntimeError) as exc:
            where = f" at {device}" if device else ""
            failure = (f"no usable Edge TPU{where}: {library} is installed but {first_line(exc)}", NO_DEVICE_HINT)
    raise EdgeAppError(*failure)


def find_edgetpu_devices(sysfs: Path = Path("/sys"), dev: Path = Path("/dev")) -> list[str]:
    """Coral devices visible to the OS, without loading any library: USB ids and /dev/apex_N."""
    found: list[str] = []
    usb_ids = {("1a6e", "089a"), ("18d1", "9302")}  # before / after the firmware is loaded
    for device in sorted((sysfs / "bus/usb/devices").glob("*")):
        try:
            ids = ((device / "idVendor").read_text().strip(), (device / "idProduct").read_text().strip())
        except OSError:
            continue
        if ids in usb_ids:
            found.append(f"usb ({device.name}, {ids[0]}:{ids[1]})")
    found += [f"pci ({apex})" for apex in sorted(dev.glob("apex_*"))]
    return found
