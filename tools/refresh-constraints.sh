#!/usr/bin/env bash
# Refresh constraints.txt: a fresh venv, the project installed unpinned (newest releases), the lint,
# types and test suite run on it, and only when all pass, its `pip freeze` written as the new pins.
# Usage: tools/refresh-constraints.sh [pytest args...]   (default: the whole suite, as .ci/run runs it)
set -euo pipefail
cd "$(dirname "$0")/.."

venv="$(mktemp -d)/venv"
trap 'rm -rf "$(dirname "$venv")"' EXIT
python3 -m venv "$venv"
. "$venv/bin/activate"
pip install -q ".[test,lint]"
ruff check .
ruff format --check .
mypy
python -m pytest "$@"

{
  echo "# The exact versions .ci/run passed with on $(uname -m) (Python $(python -c 'import platform; print(platform.python_version())')), for: pip install -c constraints.txt \".[test,lint]\""
  echo "# numpy, opencv, av, ai-edge-litert, matplotlib, scipy, scikit-learn: aarch64 wheels exist (Python 3.11, 3.13). Refresh with: tools/refresh-constraints.sh"
  pip freeze --exclude-editable --exclude edge-app | grep -viE '^(pip|setuptools|wheel)=='
} > constraints.txt
echo "constraints.txt refreshed; check aarch64 wheels for the main pins before committing, e.g.:"
for pin in $(grep -E '^(numpy|opencv-python-headless|av|ai-edge-litert|matplotlib|scipy|scikit-learn)==' constraints.txt); do
  echo "  pip download --no-deps --only-binary=:all: --python-version 3.11 --platform manylinux_2_27_aarch64 --platform manylinux_2_28_aarch64 --platform manylinux2014_aarch64 $pin -d /tmp/aarch64-wheels"
done
