"""Every table of the warehouse, by name, with its description in the model.

The registry and ledger tables are described in `registry.py` and `ledger.py`; the computed tables are
the published resources before disclosure (`out_<name>`, with the warehouse-only columns) and after it
(`pub_<name>`). Their foreign keys name warehouse tables, so the constraint checks can follow them.
"""

from __future__ import annotations

from dataclasses import replace

from instep.metadata.ledger import DISCLOSURE_WITHHELD, INDICATOR_WATERMARK, LEDGER_TABLES
from instep.metadata.model import ForeignKey, Resource
from instep.metadata.registry import REGISTRY_TABLES
from instep.metadata.resources import COMPUTED_RESOURCES, RESOURCES, warehouse_fields

COMPUTED_PREFIX = "out_"
PUBLISHED_PREFIX = "pub_"


def _renamed_keys(keys: tuple[ForeignKey, ...], prefix: str) -> tuple[ForeignKey, ...]:
    return tuple(replace(fk, resource=prefix + fk.resource) for fk in keys)


def computed_table(resource: Resource) -> Resource:
    """`out_<name>`: the resource's rows before disclosure; its keys point at the registry tables."""
    return replace(resource, name=COMPUTED_PREFIX + resource.name, fields=warehouse_fields(resource.name))


def published_table(resource: Resource) -> Resource:
    """`pub_<name>`: the rows the release writes; its keys point at the other `pub_` tables."""
    return replace(
        resource,
        name=PUBLISHED_PREFIX + resource.name,
        foreign_keys=_renamed_keys(resource.foreign_keys, PUBLISHED_PREFIX),
    )


def warehouse_tables() -> tuple[Resource, ...]:
    """Every table an `instep run` leaves in the warehouse, in the order the pipeline writes them."""
    return (
        *REGISTRY_TABLES,
        *LEDGER_TABLES,
        *(computed_table(r) for r in COMPUTED_RESOURCES),
        INDICATOR_WATERMARK,
        DISCLOSURE_WITHHELD,
        *(published_table(r) for r in RESOURCES),
    )


def warehouse_table(name: str) -> Resource:
    for table in warehouse_tables():
        if table.name == name:
            return table
    raise KeyError(f"no warehouse table {name!r} in the metadata model")
