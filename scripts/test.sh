#!/bin/sh
# Set everything up (dependencies and the headless browser), then lint and run the whole test suite.
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
sh scripts/install-browser.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/pytest "$@"
