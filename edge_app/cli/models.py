"""`edge-app models list|fetch`: the model catalog and the local cache."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

models_app = typer.Typer(help="List and download known models.", no_args_is_help=True)


@models_app.command("list")
def list_models(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Show the catalog, and which models are already in the cache."""
    from edge_app.model.catalog import cache_dir, load_catalog

    cache = cache_dir()
    rows: list[dict[str, Any]] = [
        {
            "name": e.name,
            "default": e.default,
            "input": e.input_size,
            "size_mb": round(e.download.size / 1e6, 2) if e.download.size else None,
            "cached": (cache / e.file).is_file(),
            "edgetpu_twin": e.edgetpu.file if e.edgetpu else None,
            "description": e.description,
        }
        for e in load_catalog().values()
    ]
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    width = max(len(r["name"]) for r in rows)
    print(f"{'name':<{width}}  input   size  cached  description")
    for r in rows:
        mark = "*" if r["default"] else " "
        cached = "yes" if r["cached"] else "no"
        print(f"{r['name']:<{width}}{mark} {r['input']:>4}  {_size(r['size_mb'])}  {cached:<6}  {r['description']}")
    print(f"\n* default model; cache: {cache}")


@models_app.command("fetch")
def fetch_models(
    names: Annotated[list[str], typer.Argument(help="Catalog names (see: edge-app models list).", show_default=False)],
    edgetpu: Annotated[bool, typer.Option("--edgetpu", help="Also fetch each model's Edge TPU twin.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Download again even if cached.")] = False,
) -> None:
    """Download models into the cache, verifying each checksum."""
    from edge_app.errors import EdgeAppError
    from edge_app.model.catalog import cache_dir, fetch_with_progress, load_catalog

    catalog = load_catalog()
    unknown = [n for n in names if n not in catalog]
    if unknown:
        raise EdgeAppError(f"unknown model {unknown[0]!r}", f"use one of: {', '.join(catalog)}")
    for name in names:
        entry = catalog[name]
        downloads = [entry.download, *([entry.label_file] if entry.label_file else [])]
        downloads += [entry.edgetpu] if edgetpu and entry.edgetpu else []
        for download in downloads:
            target = cache_dir() / download.file
            if target.is_file() and not force:
                print(f"{download.file}: already cached at {target}")
                continue
            path = fetch_with_progress(download)
            print(f"{download.file}: verified and saved to {path}")


def _size(size_mb: object) -> str:
    """A catalog size, or "?" for the architectures whose size was not published (verified by blob id)."""
    return f"{size_mb:>4.1f}MB" if isinstance(size_mb, float) else "   ?  "


def register(app: typer.Typer) -> None:
    app.add_typer(models_app, name="models")


@models_app.command("inspect")
def inspect_model(
    model: Annotated[str, typer.Argument(help="A catalog name or a .tflite path.", show_default=False)],
    profile: Annotated[
        bool, typer.Option("--profile", help="Also time each block (prefixes of the graph, interleaved rounds).")
    ] = False,
    threads: Annotated[
        int | None, typer.Option("--threads", min=1, max=64, help="Threads (default: every core).")
    ] = None,
    rounds: Annotated[int, typer.Option("--rounds", min=3, max=1000, help="Timing rounds for --profile.")] = 30,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Write MACs (and, with --profile, ms) per block as a PNG or SVG.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The model's architecture from its .tflite alone.

    Blocks (t, c, s), parameters, MACs and the depthwise-separable saving.
    """
    from edge_app.model import architecture, catalog
    from edge_app.model import inspect_report as report
    from edge_app.model.lanes import cores

    path, _ = catalog.resolve(model)
    arch = architecture.read(path.read_bytes(), str(path))
    measured = None
    if profile:
        from edge_app.model.profile import profile as run_profile

        measured = run_profile(path, arch, threads or cores(), rounds)
        for block, ms in zip(arch.blocks, measured.block_ms, strict=True):
            block.ms = ms
    if plot is not None:
        from edge_app import plots

        plots.blocks(plot, arch, f"{path.stem}: per block")
    if as_json:
        print(json.dumps(report.as_json(path.stem, arch, measured), indent=2))
    else:
        print(report.format_text(path.stem, arch, measured))
        if plot is not None:
            print(f"\nwrote {plot}")
