"""The docs' command examples run, and the generated reference pages match the code.

Every `edge-app ...` line in a fenced ```sh or ```console block of README.md and docs/*.md is run, in
order per page, in a fresh folder beside the shared data (so `../shared/...` resolves), offline: the
model cache holds the shared models and any fetch goes to a dead loopback port. A block that cannot
run here (a camera, root, systemd, a Coral) is marked with `<!-- not-run: REASON -->` on the line
before it; the reason is required. Two rewrites keep the examples honest and the test bounded: a
`run` with no --max-frames or --duration gets `--max-frames 30`, and port 8080 becomes a free one.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers.needs import unavailable
from tests.helpers.ports import free_port
from tests.helpers.shared_data import ROOT, SHARED, shared_missing

sys.path.insert(0, str(ROOT / "tools"))
import gen_docs  # noqa: E402  (tools/ is not a package)

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
FENCE = re.compile(r"^```(\w*)\s*$")
NOT_RUN = re.compile(r"^<!--\s*not-run:(.*?)-->\s*$")
RUNNABLE = {"sh", "console"}


@dataclass(frozen=True)
class Block:
    page: Path
    line: int  # 1-based line of the opening fence
    lang: str
    commands: tuple[str, ...]  # the edge-app lines, continuations joined, "$ " prompts dropped
    skip: str | None  # None: runnable; else the not-run marker's text ("" if it gave no reason)


def blocks(page: Path) -> list[Block]:
    """The fenced blocks of a page, each with its edge-app commands and its not-run marker."""
    found, lines = [], page.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        fence = FENCE.match(lines[i])
        if not fence:
            i += 1
            continue
        marker = NOT_RUN.match(lines[i - 1]) if i else None
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        found.append(
            Block(
                page, i + 1, fence.group(1), _commands(lines[i + 1 : end]), marker.group(1).strip() if marker else None
            )
        )
        i = end + 1
    return found


def _commands(body: list[str]) -> tuple[str, ...]:
    joined: list[str] = []
    for line in body:
        if joined and joined[-1].endswith("\\"):
            joined[-1] = joined[-1][:-1] + " " + line.strip()
        else:
            joined.append(line.strip().removeprefix("$ "))
    return tuple(line for line in joined if re.match(r"^(\S+=\S+ )*edge-app\b", line) or " && edge-app " in line)


def _bounded(command: str, port: int) -> str:
    words = shlex.split(command, comments=True)
    command = shlex.join(words)
    if "run" in words and not {"--max-frames", "--duration", "--help", "-h"} & set(words):
        command += " --max-frames 30"
    return re.sub(r"(?<![\d.])8080\b", str(port), command)


def _runnable(page: Path) -> list[str]:
    """The edge-app commands to run; an install line (`... && edge-app ...`) runs from its edge-app on."""
    found = [c for b in blocks(page) if b.lang in RUNNABLE and b.skip is None for c in b.commands]
    return [c[c.rindex(" && edge-app ") + 4 :] if " && edge-app " in c else c for c in found]


def test_every_skipped_block_says_why_and_every_page_parses() -> None:
    marked = [b for page in PAGES for b in blocks(page) if b.skip is not None]
    assert marked, "the Pi, service and Coral steps are marked not-run"
    for block in marked:
        assert len(block.skip or "") >= 8, f"{block.page.name}:{block.line}: a not-run marker needs its reason"
        assert block.lang in RUNNABLE, f"{block.page.name}:{block.line}: not-run marks a sh or console block"
    assert sum(len(_runnable(page)) for page in PAGES) >= 10, "the docs show runnable examples"
    hidden = [b for page in PAGES for b in blocks(page) if b.commands and b.lang not in RUNNABLE]
    assert not hidden, f"edge-app examples outside a sh or console block would never run: {hidden}"
    first = next(b for b in blocks(ROOT / "README.md") if b.lang in RUNNABLE)
    assert first.skip is None and "&& edge-app run --source synthetic" in first.commands[0], "it runs anywhere"


def test_the_readme_is_a_front_page() -> None:
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= 150


def test_bounding_a_run() -> None:
    assert _bounded("edge-app run --source synthetic --http 8080  # watch", 5000) == (
        "edge-app run --source synthetic --http 5000 --max-frames 30"
    )
    assert _bounded("edge-app run --max-frames 5 --http 0.0.0.0:8080", 5000) == (
        "edge-app run --max-frames 5 --http 0.0.0.0:5000"
    )
    assert _bounded("edge-app classify a.jpg", 5000) == "edge-app classify a.jpg"


@pytest.mark.slow
@pytest.mark.shared
@pytest.mark.parametrize("page", [p for p in PAGES if _runnable(p)], ids=lambda p: str(p.relative_to(ROOT)))
def test_the_examples_run(page: Path, tmp_path: Path, model_cache: Path) -> None:
    missing = shared_missing()
    if missing:
        unavailable(missing)
    (tmp_path / "shared").symlink_to(SHARED)
    work = tmp_path / "checkout"  # ../shared from here is the shared data, as from a checkout
    work.mkdir()
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(tmp_path),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    for command in _runnable(page):
        line = _bounded(command, free_port())
        done = subprocess.run(
            ["bash", "-c", line],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            stdin=subprocess.DEVNULL,
        )
        assert done.returncode == 0, f"{page.name}: {command}\n$ {line}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"


def test_the_generated_pages_are_current() -> None:
    assert gen_docs.stale() == [], "run: python tools/gen_docs.py"
    settings = (ROOT / "docs/reference/settings.md").read_text(encoding="utf-8")
    from edge_app.metrics import METRICS
    from edge_app.settings.schema import KEYS

    assert all(f"`{key.flag}`" in settings and f"`{key.env}`" in settings for key in KEYS)
    metrics = (ROOT / "docs/reference/metrics.md").read_text(encoding="utf-8")
    assert all(f"edge_app_{name}" in metrics for name, _, _ in METRICS)
