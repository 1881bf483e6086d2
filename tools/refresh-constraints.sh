#!/usr/bin/env bash
# Refresh constraints.txt: a fresh venv, the project installed unpinned (newest releases), the lint,
# types and test suite run on it, and only when all pass, its `pip freeze` written as the new pins.
# Then it checks that a Raspberry Pi (aarch64, Python 3.11 and 3.13) finds a wheel for each compiled pin.
# Usage: tools/refresh-constraints.sh [pytest args...]   (default: the whole suite, as .ci/run runs it)
set -euo pipefail
cd "$(dirname "$0")/.."

venv="$(mktemp -d)/venv"
trap 'rm -rf "$(dirname "$venv")"' EXIT
python3 -m venv "$venv"
. "$venv/bin/activate"
pip install -q ".[test,lint,docs,finetune]"  # finetune: JAX and optax, so the fine-tuning tests run too
ruff check .
ruff format --check .
mypy
NO_MKDOCS_2_WARNING=1 mkdocs build --strict --site-dir "$(dirname "$venv")/site"
python -m pytest "$@"

{
  echo "# The exact versions .ci/run passed with on $(uname -m) (Python $(python -c 'import platform; print(platform.python_version())')), for: pip install -c constraints.txt \".[test,lint,docs,finetune]\""
  echo "# Every compiled pin has an aarch64 wheel (Python 3.11 and 3.13, glibc 2.28+), checked when refreshed with: tools/refresh-constraints.sh"
  pip freeze --exclude-editable --exclude edge-app | grep -viE '^(pip|setuptools|wheel)=='
} > constraints.txt
# A Pi must find a wheel for every compiled pin (nothing builds from source there): resolve each for
# aarch64 without installing it (pip reads the wheels' metadata only) and fail on any that is missing.
compiled=$(mktemp)
grep -E '^(jaxlib|numpy|opencv-python-headless|av|ai-edge-litert|matplotlib|contourpy|kiwisolver|pillow|fonttools|ml_dtypes|protobuf|scipy|scikit-learn|pydantic_core|librt|psutil)==' constraints.txt > "$compiled"
for python in 3.11 3.13; do
  pip install -q --dry-run --ignore-installed --no-deps --only-binary=:all: --python-version "$python" \
    --platform manylinux2014_aarch64 --platform manylinux_2_17_aarch64 --platform manylinux_2_27_aarch64 \
    --platform manylinux_2_28_aarch64 --target "$(dirname "$venv")/aarch64" -r "$compiled"
  echo "aarch64 wheels found for Python $python: $(wc -l < "$compiled") compiled pins"
done
rm -f "$compiled"
echo "constraints.txt refreshed"
