"""Disclosure control (SPEC 5), in one place.

- `rules`: the sensitivity rules and their parameters (`instep/reference/disclosure_rules.csv`);
- `cells`, `relations`, `history`: what a reader sees and can combine, in this and every earlier release;
- `plan`: primary, secondary and derived suppression of the park cells;
- `publish`: the publishable `pub_*` tables with the plan applied (the plan is computed once, here);
- `audit`: the attack every staged release must survive before it is published.
"""

from instep.disclosure.publish import (
    FROM_PUBLISHED,
    SMALL_COUNT_BAND,
    SMALL_COUNT_LIMIT,
    build_publishable_tables,
    disclosed_query,
    ensure_plan,
    publish_resource,
)

__all__ = [
    "FROM_PUBLISHED",
    "SMALL_COUNT_BAND",
    "SMALL_COUNT_LIMIT",
    "build_publishable_tables",
    "disclosed_query",
    "ensure_plan",
    "publish_resource",
]
