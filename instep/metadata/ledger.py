"""The submission template and the warehouse's ingestion ledger, described once.

`SUBMISSION` is the canonical long table a facility submits (SPEC 2.2): its field names are the header the
readers look for. The ledger tables keep every file received and every row read, judged and accepted;
`staged_rows` and `submission_rows` hold each submitted cell as text, exactly as read. The disclosure plan
(`disclosure_withheld`) is kept beside them.
"""

from __future__ import annotations

from dataclasses import replace

from instep.metadata.model import Field, ForeignKey, Resource
from instep.metadata.resources import FACILITY_ID, PARK_ID, PERIOD_PATTERN

SUBMISSION_FORMATS = ("csv", "xlsx", "json", "unknown")
FILE_STATUSES = ("ingested", "unreadable")
ROW_STATES = ("accepted", "rejected", "superseded")
SUBMISSION_ID_PATTERN = r"^S-[0-9a-f]{16}$"

SUBMISSION = Resource(
    name="submission",
    title="Submission template",
    description=(
        "One canonical long table per file (CSV, XLSX sheet `submission`, or JSON records): one value of "
        "one metric of one facility-month per row. Required columns must be in the header."
    ),
    fields=(
        Field("facility_id", "string", "Registry id of the facility.", required=True),
        Field("period", "string", "Reporting month YYYY-MM.", required=True),
        Field("metric", "string", "A metric code of the metric catalogue.", required=True),
        Field(
            "value",
            "string",
            "A number with a decimal point; for wastewater results '<x' means below the detection limit x.",
            required=True,
        ),
        Field("unit", "string", "One of the metric's accepted units.", required=True),
        Field(
            "sample_point",
            "string",
            "Wastewater rows: where the sample was taken ('raw', 'treated' or 'discharge').",
        ),
        Field("sample_date", "string", "Wastewater rows: day the sample was taken, YYYY-MM-DD."),
        Field("comment", "string", "Free text."),
    ),
    primary_key=(),
    row="submitted value",
)


def _as_submitted(field: Field) -> Field:
    """A submission column as the ledger keeps it: the text read, untrimmed, empty cells as null."""
    return replace(
        field,
        description=f"As submitted: {field.description[0].lower()}{field.description[1:]}",
        required=False,
    )


SUBMITTED_CELLS = tuple(_as_submitted(f) for f in SUBMISSION.fields)

SUBMISSION_ID = Field(
    "submission_id",
    "string",
    "Submission id: 'S-' and the first 16 hex digits of the file's SHA-256.",
    required=True,
    pattern=SUBMISSION_ID_PATTERN,
)
FILE_SEQ = Field(
    "file_seq",
    "integer",
    "Position of the file in ingestion order (a later file restates an earlier one).",
    required=True,
)
ROW_NUMBER = Field(
    "row_number",
    "integer",
    "Data row in its file: 1 = first data row (the spreadsheet line is row_number + 1).",
    required=True,
    minimum=1,
)
RULE = Field("rule", "string", "Id of the validation rule (expectations/rules.csv).")
MESSAGE = Field("message", "string", "What is wrong and how to fix it, for the factory.")
FILE_FK = ForeignKey(("submission_id",), "submission_files", ("submission_id",))
ROW_FK = ForeignKey(("submission_id", "row_number"), "submission_rows", ("submission_id", "row_number"))
# Every observation is an accepted submission row: the row-state check's outer join of the two tables
# (instep.validate.ledger.ACCEPTED_ROWS_AND_OBSERVATIONS) finds an observation without one, so the key
# is not joined a second time (the two largest tables of the warehouse).
ACCEPTED_ROW_FK = replace(ROW_FK, held_by="row_states_add_up")

SUBMISSION_FILES = Resource(
    name="submission_files",
    title="Files received",
    description="Every file taken from the inbox, archived by content hash, with its outcome.",
    fields=(
        replace(SUBMISSION_ID, unique=False),
        Field(
            "file_hash",
            "string",
            "SHA-256 of the file's bytes.",
            required=True,
            unique=True,
            pattern=r"^[0-9a-f]{64}$",
        ),
        Field("original_name", "string", "File name as found in the inbox.", required=True),
        Field("archived_path", "string", "Copy in the archive: archive/<sha256>.<ext>.", required=True),
        Field("format", "string", "Format the file was read as.", required=True, enum=SUBMISSION_FORMATS),
        replace(FILE_SEQ, unique=True),
        Field(
            "status",
            "string",
            "'ingested' when its rows were read, 'unreadable' when the file was rejected as a whole.",
            required=True,
            enum=FILE_STATUSES,
        ),
        replace(RULE, description="Rule that rejected the whole file; empty when ingested."),
        replace(MESSAGE, description="Why the whole file was rejected; empty when ingested."),
        Field(
            "rows_read", "integer", "Data rows read from the file.", unit="count", required=True, minimum=0
        ),
        Field(
            "ignored_columns", "string", "Header columns that are not submission columns, separated by ', '."
        ),
    ),
    primary_key=("submission_id",),
    row="file received",
)

INBOX_FINGERPRINTS = Resource(
    name="inbox_fingerprints",
    title="Inbox files read",
    description=(
        "The size and modification time of each inbox file name when it was last read, with the hash of "
        "what was read. A file still found with the same name, size and modification time is not read "
        "and hashed again: a run tells new files from the thousands already ingested by their "
        "fingerprint, and hashes only the new or changed ones. The content hash stays the identity of a "
        "submission."
    ),
    fields=(
        Field("original_name", "string", "File name as found in the inbox.", required=True),
        Field("file_bytes", "integer", "Size of the file when it was read.", unit="byte", required=True),
        Field(
            "file_mtime_ns",
            "integer",
            "Modification time of the file when it was read, in nanoseconds since 1970-01-01 UTC.",
            required=True,
        ),
        Field(
            "file_hash",
            "string",
            "SHA-256 of the bytes read (a file of submission_files, or one whose content was already there).",
            required=True,
            pattern=r"^[0-9a-f]{64}$",
        ),
    ),
    primary_key=("original_name",),
    row="inbox file name read",
)

STAGED_ROWS = Resource(
    name="staged_rows",
    title="Rows waiting for validation",
    description=(
        "Rows read from ingested files and not judged yet; settling moves each one to submission_rows in "
        "the same transaction, so the table is empty between runs."
    ),
    fields=(
        SUBMISSION_ID,
        FILE_SEQ,
        ROW_NUMBER,
        *SUBMITTED_CELLS,
        Field(
            "extra_cells",
            "boolean",
            "True when the row has more cells than the header (rejected as misaligned).",
            required=True,
        ),
    ),
    primary_key=("submission_id", "row_number"),
    foreign_keys=(FILE_FK,),
    row="data row read, not judged yet",
)

SUBMISSION_ROWS = Resource(
    name="submission_rows",
    title="Rows read and their state",
    description="Every data row read, in exactly one state, with the first failed rule of a rejected row.",
    fields=(
        SUBMISSION_ID,
        FILE_SEQ,
        ROW_NUMBER,
        *SUBMITTED_CELLS,
        Field(
            "state",
            "string",
            "'accepted', 'rejected' (rule and message say why) or 'superseded' (a later row restated it).",
            required=True,
            enum=ROW_STATES,
        ),
        replace(RULE, description="First failed rule of a rejected row."),
        replace(MESSAGE, description="Message of the first failed rule of a rejected row."),
        Field(
            "superseded_by",
            "string",
            "Submission whose later row restated this one; empty unless superseded.",
            pattern=SUBMISSION_ID_PATTERN,
        ),
    ),
    primary_key=("submission_id", "row_number"),
    foreign_keys=(FILE_FK,),
    row="data row read",
)

ROW_ISSUES = Resource(
    name="row_issues",
    title="Failed rules of rows",
    description="Every rule a row failed (a rejected row may fail several), for the validation reports.",
    fields=(
        SUBMISSION_ID,
        ROW_NUMBER,
        Field("column", "string", "Submission column the rule judged.", required=True),
        replace(RULE, required=True),
        Field("value", "string", "The submitted text the rule judged."),
        Field("expected", "string", "What the rule expected."),
        replace(MESSAGE, required=True),
    ),
    primary_key=(),
    foreign_keys=(ROW_FK,),
    row="failed rule on a row",
)

OBSERVATIONS = Resource(
    name="observations",
    title="Accepted values",
    description=(
        "The accepted, current values in canonical units, one per facility, period, metric and sample; "
        "each traceable to its submission and row."
    ),
    fields=(
        SUBMISSION_ID,
        ROW_NUMBER,
        Field("facility_id", "string", "Registry id of the facility.", required=True, pattern=FACILITY_ID),
        Field("park_id", "string", "Registry id of the facility's park.", required=True, pattern=PARK_ID),
        Field("period", "yearmonth", "Reporting month YYYY-MM.", required=True, pattern=PERIOD_PATTERN),
        Field("period_start", "date", "First day of the reporting month.", required=True),
        Field("year", "year", "Calendar year of the period.", required=True),
        Field("metric", "string", "Metric code (metric catalogue).", required=True),
        Field("topic", "string", "Topic of the metric (metric catalogue).", required=True),
        Field(
            "value",
            "number",
            "The value in the metric's canonical unit; for a censored result the detection limit.",
            required=True,
        ),
        Field("unit", "string", "Canonical unit of the metric.", required=True),
        Field("censored", "boolean", "True for a '<x' result: below the detection limit x.", required=True),
        Field("submitted_value", "string", "The value as submitted (trimmed).", required=True),
        Field("submitted_unit", "string", "The unit as submitted (trimmed).", required=True),
        Field("sample_point", "string", "Wastewater results: where the sample was taken."),
        Field("sample_date", "date", "Wastewater results: day the sample was taken."),
    ),
    primary_key=("submission_id", "row_number"),
    foreign_keys=(
        ACCEPTED_ROW_FK,
        ForeignKey(("facility_id",), "facilities", ("facility_id",)),
        ForeignKey(("park_id",), "parks", ("park_id",)),
    ),
    row="accepted value",
)

LEDGER_TABLES = (SUBMISSION_FILES, INBOX_FINGERPRINTS, STAGED_ROWS, SUBMISSION_ROWS, ROW_ISSUES, OBSERVATIONS)

DISCLOSURE_WITHHELD = Resource(
    name="disclosure_withheld",
    title="Withheld park cells",
    description=(
        "The suppression plan: every park cell disclosure control withholds, with its rule. The "
        "scorecards and the pub_* tables apply it."
    ),
    fields=(
        Field(
            "resource",
            "string",
            "Published resource of the cell.",
            required=True,
            enum=("park_monthly", "park_annual"),
        ),
        Field("park_id", "string", "Park of the cell.", required=True, pattern=PARK_ID),
        Field("key", "string", "Period (park_monthly) or year (park_annual) of the cell.", required=True),
        Field("column", "string", "Withheld column.", required=True),
        Field("rule", "string", "Why the cell is withheld (see suppression_rules).", required=True),
    ),
    primary_key=("resource", "park_id", "key", "column"),
    row="withheld park cell",
)

INDICATOR_WATERMARK = Resource(
    name="indicator_watermark",
    title="What the indicator tables were built from",
    description=(
        "One row written with the out_* tables: the last file whose rows they include, the row and "
        "observation counts of the ledger then, the reporting window and a fingerprint of everything else "
        "they are computed from. The next build recomputes only the facility-months of later files (and "
        "the park tables of their parks) when the ledger changed by those files alone and the fingerprint "
        "is the same; otherwise it rebuilds every table."
    ),
    fields=(
        Field(
            "file_seq",
            "integer",
            "Last file (file_seq) whose rows the indicator tables include; -1 when there were none.",
            required=True,
        ),
        *(
            Field(
                f"rows_{state}",
                "integer",
                f"Rows of files up to file_seq in state '{state}' when the tables were built.",
                unit="count",
                required=True,
                minimum=0,
            )
            for state in ROW_STATES
        ),
        Field(
            "observations",
            "integer",
            "Accepted values in the warehouse when the tables were built.",
            unit="count",
            required=True,
            minimum=0,
        ),
        Field("first_period", "yearmonth", "First month of the reporting window.", pattern=PERIOD_PATTERN),
        Field("last_period", "yearmonth", "Last month of the reporting window.", pattern=PERIOD_PATTERN),
        Field("years", "string", "Years with an accepted value, separated by ';'.", required=True),
        Field(
            "inputs_fingerprint",
            "string",
            "SHA-256 of the GWP set, the reference factors, the parks and facilities of the registry and "
            "the indicator code the tables were built with.",
            required=True,
            pattern=r"^[0-9a-f]{64}$",
        ),
        Field("full_build", "boolean", "True when every table was rebuilt whole.", required=True),
        Field(
            "facility_months_recomputed",
            "integer",
            "Facility-months recomputed by an incremental build (every facility-month by a full one).",
            unit="count",
            required=True,
            minimum=0,
        ),
        Field(
            "park_months_recomputed",
            "integer",
            "Park-months of out_park_monthly recomputed (every one by a full build).",
            unit="count",
            required=True,
            minimum=0,
        ),
        Field(
            "park_years_recomputed",
            "integer",
            "Park-years of out_park_coverage recomputed (every one of out_data_quality by a full build).",
            unit="count",
            required=True,
            minimum=0,
        ),
    ),
    primary_key=(),
    row="indicator build",
)
