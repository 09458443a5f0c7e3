"""Ingest: the steward's registry and the inbox files into the warehouse ledger (nothing judged yet)."""

import dagster as dg
from pydantic import Field

from assets import keys
from assets.common import (
    DATA_ENGINEERING,
    DATA_STEWARDS,
    LISTED_ROWS,
    WAREHOUSE_POOL,
    markdown_table,
    progress,
    readable_failures,
)
from assets.resources import Workspace
from instep.ingest import archive_problems, inbox_files, recorded_file_totals, stage_new_files
from instep.readers import display_name
from instep.registry import load_registry, read_registry

GROUP = "ingest"


@dg.asset(
    key=keys.REGISTRY,
    group_name=GROUP,
    kinds={"csv", "duckdb"},
    owners=[DATA_STEWARDS],
    pool=WAREHOUSE_POOL,
    description=(
        "The steward's registry (registry/parks.csv and registry/facilities.csv), checked and loaded into "
        "the warehouse tables `parks` and `facilities`. Submissions are judged against it."
    ),
)
@readable_failures
def raw_registry(context: dg.AssetExecutionContext, instep: Workspace) -> dg.MaterializeResult:
    settings = instep.settings()
    registry = read_registry(settings.registry_dir)
    with instep.warehouse() as con:
        load_registry(con, registry)
    disclosure = [row["disclosure"] for row in registry.facilities]
    progress(context, f"registry: {len(registry.parks)} parks, {len(registry.facilities)} facilities")
    return dg.MaterializeResult(
        metadata={
            "parks": len(registry.parks),
            "facilities": len(registry.facilities),
            "facilities_public": disclosure.count("public"),
            "facilities_aggregate_only": disclosure.count("aggregate_only"),
            "registry_dir": dg.MetadataValue.path(str(settings.registry_dir)),
        }
    )


class InboxSelection(dg.Config):
    """Which inbox files a run ingests (the inbox sensor names one file per run)."""

    files: list[str] = Field(
        default_factory=list,
        description="Inbox file names to ingest. Empty: every inbox file whose content is not ingested yet.",
    )


@dg.asset(
    key=keys.SUBMISSION_FILES,
    group_name=GROUP,
    deps=[keys.REGISTRY],
    kinds={"duckdb", "csv", "json"},
    owners=[DATA_ENGINEERING],
    pool=WAREHOUSE_POOL,
    description=(
        "Submission files from the inbox, archived by content hash (archive/<sha256>.<ext>, never "
        "modified) and recorded in `submission_files`; their rows wait in `staged_rows` as submitted text. "
        "A file seen before (same content) is skipped; a file that cannot be read is rejected as a whole."
    ),
)
@readable_failures
def raw_submission_files(
    context: dg.AssetExecutionContext, config: InboxSelection, instep: Workspace
) -> dg.MaterializeResult:
    settings = instep.settings()
    if config.files:
        # Files the sensor saw may be gone by the time the run starts: skipped like files that vanish
        # while the batch is read, so that one moved file does not fail the others.
        missing = [name for name in config.files if not (settings.inbox_dir / name).is_file()]
        if missing:
            progress(
                context,
                f"ingest: {len(missing)} selected files are no longer in the inbox and were skipped: "
                + ", ".join(display_name(name) for name in missing[:20]),
            )
        files = [settings.inbox_dir / name for name in config.files if name not in missing]
    else:
        files = inbox_files(settings.inbox_dir)
    progress(context, f"ingest: reading {len(files)} inbox files (files ingested before are skipped)")
    with instep.warehouse() as con:
        summary = stage_new_files(con, settings.inbox_dir, settings.archive_dir, files=files)
        files_total, rows_read_total = recorded_file_totals(con)
    progress(
        context,
        f"ingest: {len(summary.new_files)} new files ({len(summary.unreadable)} unreadable), "
        f"{summary.rows_staged} rows staged, {len(summary.skipped_known)} files already ingested",
    )
    if summary.vanished:
        progress(
            context,
            f"ingest: {len(summary.vanished)} files left the inbox before they could be read and were "
            "skipped (ingested if they come back): "
            + ", ".join(display_name(n) for n in summary.vanished[:20]),
        )
    return dg.MaterializeResult(
        metadata={
            "files_in_inbox_selection": len(files),
            "files_new": len(summary.new_files),
            "files_already_ingested": len(summary.skipped_known),
            "files_unreadable": len(summary.unreadable),
            "files_vanished": len(summary.vanished),
            "rows_read": summary.rows_staged,
            "files_total": files_total,
            "rows_read_total": rows_read_total,
            "new_files": markdown_table(["file"], [[name] for name in summary.new_files[:LISTED_ROWS]]),
            "unreadable_files": markdown_table(
                ["file", "reason"], list(summary.unreadable.items())[:LISTED_ROWS]
            ),
            "inbox_dir": dg.MetadataValue.path(str(settings.inbox_dir)),
            "archive_dir": dg.MetadataValue.path(str(settings.archive_dir)),
        }
    )


@dg.asset_check(
    asset=raw_submission_files,
    pool=WAREHOUSE_POOL,
    description=(
        "Every recorded submission file still has its archived copy (archive/<sha256>.<ext>). A missing "
        "copy is an error for the steward to restore; `instep doctor` also verifies every copy's hash. "
        "Not blocking: the ledger and what is published from it are not affected."
    ),
)
@readable_failures
def archive_intact(context: dg.AssetCheckExecutionContext, instep: Workspace) -> dg.AssetCheckResult:
    settings = instep.settings()
    with instep.warehouse() as con:
        problems = archive_problems(con, settings.archive_dir, verify_hashes=False)
        files, _rows_read = recorded_file_totals(con)
    if problems:
        progress(
            context,
            f"check FAILED: {len(problems)} archived submission files are missing from "
            f"{settings.archive_dir}; restore them from a backup (or the factory's copy) and run "
            "`instep doctor`",
        )
    return dg.AssetCheckResult(
        passed=not problems,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "files_checked": files,
            "files_missing": len(problems),
            "missing_files": markdown_table(
                ["submission", "file", "archived as", "problem"],
                [
                    (p.submission_id, display_name(p.original_name), p.archived_path, p.problem)
                    for p in problems[:LISTED_ROWS]
                ],
            ),
        },
    )
