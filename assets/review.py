"""Runs that need review look like it: the run that settles rejected rows carries the `instep/review`
tag ("N rows rejected in M files: review", shown in the UI's run list), the ids of the submissions to
review (`instep/review_submissions`, the first LISTED_SUBMISSIONS of them) and how many there are
(`instep/review_files`). The settling asset's
warning check (`rejected_rows_in_latest_batch`) says the same per rule; a run without rejected rows
gets neither and stays plain green.
"""

import functools
import inspect
from collections.abc import Callable, Iterator
from typing import Any

import dagster as dg

from assets.common import progress
from assets.resources import InstepWorkspace
from instep.review import review_of, staged_submissions

REVIEW_TAG = "instep/review"
REVIEW_SUBMISSIONS_TAG = "instep/review_submissions"
REVIEW_FILES_TAG = "instep/review_files"
LISTED_SUBMISSIONS = 20


def flags_review(settle: Callable[..., Iterator[Any]]) -> Callable[..., Iterator[Any]]:
    """Decorate the settling asset's function (under its Dagster decorator): tag its run when the batch
    it settles has rejected rows."""
    signature = inspect.signature(settle)

    @functools.wraps(settle)
    def settle_and_flag(*args: Any, **kwargs: Any) -> Iterator[Any]:
        bound = signature.bind(*args, **kwargs).arguments
        context: dg.AssetExecutionContext = bound["context"]
        instep: InstepWorkspace = bound["instep"]
        with instep.warehouse() as con:
            batch = staged_submissions(con)
        yield from settle(*args, **kwargs)
        with instep.warehouse() as con:
            review = review_of(con, batch)
        if review.needed:
            listed = review.submissions[:LISTED_SUBMISSIONS]
            context.instance.add_run_tags(
                context.run.run_id,
                {
                    REVIEW_TAG: review.headline(),
                    REVIEW_SUBMISSIONS_TAG: " ".join(listed),
                    REVIEW_FILES_TAG: str(len(review.submissions)),
                },
            )
            progress(context, f"{review.headline()} the reports of {', '.join(listed)}")

    return settle_and_flag
