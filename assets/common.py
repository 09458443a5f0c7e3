"""What the stage modules share: owners, the pool that serialises warehouse writers, progress lines."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import dagster as dg

from pipelines.resources import progress_log

DATA_ENGINEERING = "team:data-engineering"
DATA_STEWARDS = "team:data-stewards"
METHODOLOGY = "team:methodology"

# One op at a time touches the warehouse across runs (DuckDB has one writer); see dagster.yaml.
WAREHOUSE_POOL = "instep_warehouse"

# Rows listed in a check's or asset's metadata; the counts always cover all of them.
LISTED_ROWS = 50


def progress(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext, message: str) -> None:
    """A progress line in the Dagster run log and on the command line of `instep run`."""
    context.log.info(message)
    progress_log.info(message)


def markdown_table(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> dg.MetadataValue:
    def cell(value: object) -> str:
        return "" if value is None else str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return dg.MetadataValue.md("\n".join(lines))
