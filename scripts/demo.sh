#!/bin/sh
# Set everything up, then run the main job on the bundled demo data:
# ingest -> validate -> indicators -> scorecards -> release -> site.
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
exec .venv/bin/instep run "$@"
