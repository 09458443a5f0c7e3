"""What the stage modules share: owners, the pool that serialises warehouse writers, progress lines, and
how an expected error ends a step."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import dagster as dg

from assets.resources import progress_log
from instep.registry import RegistryError
from instep.release import ReleaseConflict
from instep.warehouse import WarehouseBusy

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


# Errors a steward meets in ordinary work, with what to do about them. A step that raises one fails with
# this one line (a Dagster `Failure`, its kind in the metadata under ERROR_KIND) instead of a traceback;
# `instep run` and `instep release` print the line and exit with the kind's status (pipelines/cli.py).
ERROR_KIND = "instep/error"
EXPECTED_ERRORS: dict[type[Exception], tuple[str, str]] = {
    RegistryError: (
        "invalid_registry",
        "the registry is invalid: {error}; correct registry/parks.csv or facilities.csv and run again",
    ),
    ReleaseConflict: ("release_conflict", "{error}"),
    WarehouseBusy: ("workspace_busy", "{error}"),
}


def expected_failure(error: Exception) -> dg.Failure:
    kind, template = next(
        (kind, template) for cls, (kind, template) in EXPECTED_ERRORS.items() if isinstance(error, cls)
    )
    return dg.Failure(
        description=template.format(error=error), metadata={ERROR_KIND: kind}, allow_retries=False
    )


def readable_failures(compute: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate an asset or check function (under its Dagster decorator): an expected error ends the
    step as one readable line."""
    expected = tuple(EXPECTED_ERRORS)

    if inspect.isgeneratorfunction(compute):

        @functools.wraps(compute)
        def generate(*args: Any, **kwargs: Any) -> Any:
            try:
                yield from compute(*args, **kwargs)
            except expected as error:
                raise expected_failure(error) from None

        return generate

    @functools.wraps(compute)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return compute(*args, **kwargs)
        except expected as error:
            raise expected_failure(error) from None

    return call
