"""The systemd unit for edge-app, rendered with the real paths of this installation.

systemd/edge-app.service in the source tree is this template rendered for a venv in
/opt/edge-app (regenerate it with `python -m edge_app.install.unit > systemd/edge-app.service`);
a test keeps the two identical.
"""

from __future__ import annotations

import grp
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from edge_app.paths import SYSTEM_CONFIG

UNIT_NAME = "edge-app.service"
UNIT_DIR = Path("/etc/systemd/system")
DEFAULT_USER = "edge-app"
OPT_PREFIX = Path("/opt/edge-app")
# video: V4L2, media controller and (on Raspberry Pi OS) dma-heap nodes; plugdev: the Coral USB
# udev rule; apex: the Coral PCIe udev rule. Only groups that exist are used: systemd refuses
# to start a unit naming a missing group.
DEVICE_GROUPS = ("video", "plugdev", "apex")
HOME_ROOTS = (Path("/home"), Path("/root"), Path("/run/user"))

TEMPLATE = """\
# edge-app: real-time camera classifier. Rendered by `edge-app service install`.
# Check the sandbox with: systemd-analyze security edge-app.service
[Unit]
Description=edge-app real-time camera classifier with live view
# The first start may fetch the model; later starts work offline.
Wants=network-online.target
After=network-online.target
# Give up after 5 failed starts in 10 minutes (e.g. a broken config); see `edge-app service status`.
StartLimitIntervalSec=600
StartLimitBurst=5

[Service]
Type=notify
NotifyAccess=main
ExecStart={exec_start}
ExecReload=/bin/kill -HUP $MAINPID
# READY=1 comes after the first classified frame. While it waits (e.g. for a camera) and its
# threads are healthy, edge-app extends this with EXTEND_TIMEOUT_USEC.
TimeoutStartSec=120
TimeoutStopSec=10
# WATCHDOG=1 every 15 s while every pipeline thread makes progress; a hung driver call -> restart.
WatchdogSec=30
Restart=on-failure
RestartSec=10
SyslogIdentifier=edge-app

User={user}
Group={group}
SupplementaryGroups={groups}
StateDirectory=edge-app
CacheDirectory=edge-app
ConfigurationDirectory=edge-app
WorkingDirectory=%S/edge-app
Environment=PYTHONUNBUFFERED=1
Environment=EDGE_APP_MODELS=%C/edge-app/models

# Limits, sized for a Pi 4 with 1 GB. edge-app uses about 120 MB, 10 descriptors and 15 threads
# (more with a Pi camera); the live view sizes itself from LimitNOFILE: it holds at most that
# minus 128 connections, answers with at most 64 threads, and sheds the excess of a flood
# (logged) instead of running out. TasksMax leaves room for those 64 and the pipeline's threads;
# MemoryMax stops a leak at 512 MB, before the kernel's OOM killer picks something else.
LimitNOFILE=4096
TasksMax=256
MemoryMax=512M

# Devices: cameras (V4L2 video and subdev nodes, media controller, dma-heap buffers of the
# Pi camera stack) and the Coral Edge TPU (USB via libusb, PCIe via the apex driver).
# Device groups are matched by name in /proc/devices, so devices plugged in later work too.
DevicePolicy=closed
DeviceAllow=char-video4linux rw
DeviceAllow=char-media rw
DeviceAllow=char-dma_heap rw
DeviceAllow=char-usb_device rw
DeviceAllow=char-apex rw

# Sandbox. Not set, on purpose: PrivateDevices (hides the camera), PrivateUsers (loses the
# device groups), PrivateNetwork/IPAddressDeny (live view, MQTT, model download),
# ProcSubset=pid (XNNPACK reads /proc/cpuinfo for CPU features), MemoryDenyWriteExecute
# (libffi closures and executable-stack libraries in binary wheels fail under it; nothing
# here needs W+X memory on purpose, but the gain is small and the failure is a crash).
NoNewPrivileges=yes
CapabilityBoundingSet=
AmbientCapabilities=
ProtectSystem=strict
ProtectHome={protect_home}
PrivateTmp=yes
PrivateMounts=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
ProtectProc=invisible
# AF_NETLINK: udev device monitoring by libcamera and libusb (hot-plug).
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
RemoveIPC=yes
UMask=0077
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallFilter=~@privileged @resources
SystemCallErrorNumber=EPERM

[Install]
WantedBy=multi-user.target
"""


@dataclass(frozen=True)
class UnitOptions:
    """What differs between installations; everything else is fixed policy in TEMPLATE."""

    exec_start: tuple[str, ...]
    user: str = DEFAULT_USER
    group: str | None = None  # None: the group named like the user, as `useradd --user-group` makes it
    groups: tuple[str, ...] = ("video", "plugdev")
    protect_home: str = "yes"  # "read-only" when the installation lives under /home


def quote_arg(arg: str) -> str:
    """One ExecStart= word: % and $ escaped (specifiers, variables), quoted if it has spaces or quotes."""
    text = arg.replace("%", "%%").replace("$", "$$")
    if text and not any(c.isspace() or c in "\"'\\;" for c in text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render(options: UnitOptions) -> str:
    return TEMPLATE.format(
        exec_start=" ".join(quote_arg(arg) for arg in options.exec_start),
        user=options.user,
        group=options.group or options.user,
        groups=" ".join(options.groups),
        protect_home=options.protect_home,
    )


def program(executable: Path | None = None) -> tuple[str, ...]:
    """How to start this installation: its venv's `edge-app` script, else `python -m edge_app`.

    sys.executable is used as is, not resolved: resolving a venv's python would escape the venv.
    """
    executable = Path(sys.executable) if executable is None else executable
    script = executable.parent / "edge-app"
    if script.is_file() and os.access(script, os.X_OK):
        return (str(script),)
    return (str(executable), "-m", "edge_app")


def exec_start(config: Path = SYSTEM_CONFIG, executable: Path | None = None) -> tuple[str, ...]:
    return (*program(executable), "run", "--config", str(config))


def existing_groups(
    candidates: Iterable[str] = DEVICE_GROUPS, lookup: Callable[[str], object] = grp.getgrnam
) -> tuple[str, ...]:
    found = []
    for name in candidates:
        try:
            lookup(name)
        except KeyError:
            continue
        found.append(name)
    return tuple(found)


def protect_home(paths: Iterable[Path]) -> str:
    """ProtectHome=yes hides /home, /root and /run/user; read-only when we must run from there."""
    for path in paths:
        if any(path == root or root in path.parents for root in HOME_ROOTS):
            return "read-only"
    return "yes"


def shipped_unit() -> str:
    """The unit in the source tree: a venv in /opt/edge-app, the groups every Debian has."""
    return render(UnitOptions(exec_start=(str(OPT_PREFIX / "bin" / "edge-app"), "run", "--config", str(SYSTEM_CONFIG))))


if __name__ == "__main__":
    sys.stdout.write(shipped_unit())
