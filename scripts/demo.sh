#!/bin/sh
# Set everything up, then run the main job on the bundled demo data:
# ingest -> validate -> indicators -> scorecards -> release -> site,
# and once the preview the nightly schedule builds, so the Dagster UI (`instep ui`) shows every asset
# materialised.
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
.venv/bin/instep run "$@"
exec .venv/bin/instep preview
