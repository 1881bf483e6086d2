"""Settings as text: the commented config template (`config init`) and `config show` rows."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from edge_app.settings.registry import SECTIONS
from edge_app.settings.schema import CAMERA_KEYS, DEFAULT_CAMERA, KEYS, SECTION_NAMES, Key, Settings

TABLE_SECTIONS = {section.name for section in SECTIONS if section.from_table is not None}


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


def default_config_text() -> str:
    """A config file with every key commented out at its default, and what it does."""
    lines = [
        "# edge-app configuration (TOML).",
        "# Precedence: command line > EDGE_APP_* environment variables > this file > defaults.",
        "# Uncomment a line to change it. `edge-app config show` prints the effective settings.",
        "# The service reloads this file on SIGHUP: sudo systemctl reload edge-app",
    ]
    for section in SECTION_NAMES:
        if section in TABLE_SECTIONS:
            lines += ["", *_table_section(section)]
            continue
        lines += ["", f"[{section}]"]
        for key in (k for k in KEYS if k.section == section):
            allowed = f" ({' | '.join(map(str, key.choices))})" if key.choices else ""
            lines.append(f"# {key.help.rstrip('.')}{allowed}. Env {key.env}, flag {key.flag}.")
            example = key.text(key.default) if key.default is not None else key.example
            lines.append(f"# {key.name} = {toml_value(example)}")
    lines += [
        "",
        "# Several cameras: a table each, with its source and any [source] key (and model, labels) of its",
        "# own; [source] then holds what they share. Regions go under their camera; with one camera,",
        "# top-level [regions.NAME] tables (or --region NAME=x0,y0,x1,y1) are its regions.",
        "# [cameras.door]",
        "# camera = 0",
        "# [cameras.door.regions.bins]",
        "# box = [0.05, 0.5, 0.4, 1.0]",
        "# [cameras.yard]",
        '# source = "rtsp://yard.local/stream"',
    ]
    return "\n".join(lines) + "\n"


def _table_section(name: str) -> list[str]:
    """A section that reads its own table ([events]): its plain fields at their defaults, commented
    out with the header, as the section's class gives them (its docstring says the rest)."""
    config = next(section.config for section in SECTIONS if section.name == name)
    lines = [f"# [{name}]  (see the documentation for its per-region tables)"]
    for item in fields(config):
        value = getattr(config(), item.name)
        if isinstance(value, bool | int | float | str):
            lines.append(f"# {item.name} = {toml_value(value)}")
        elif isinstance(value, tuple):
            lines.append(f"# {item.name} = [{', '.join(toml_value(v) for v in value)}]")
    return lines


def shown(key: Key, settings: Settings) -> str:
    value = settings.value(key.name)
    return "(unset)" if value is None else toml_value(key.text(value))


def describe(settings: Settings) -> list[tuple[str, str, str]]:
    """(section.key, value, origin) rows for `edge-app config show`."""
    rows = [(f"{key.section}.{key.name}", shown(key, settings), settings.origins[key.name]) for key in KEYS]
    for camera in settings.cameras:
        if camera.name == DEFAULT_CAMERA:
            continue
        for key in CAMERA_KEYS:
            holder = camera.source if key.section == "source" else camera.model
            value = getattr(holder, key.field)
            shown_value = "(unset)" if value is None else toml_value(key.text(value))
            rows.append(
                (
                    f"cameras.{camera.name}.{key.name}",
                    shown_value,
                    settings.origins[f"cameras.{camera.name}.{key.name}"],
                )
            )
    for camera in settings.cameras:
        for region in camera.regions:
            rows.append((f"cameras.{camera.name}.regions.{region.name}.box", repr(region.box.as_list()), "config"))
    return rows
