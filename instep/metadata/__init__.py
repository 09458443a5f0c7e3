"""One description of every table and field: published, warehouse and registry.

`resources.py` describes the published tables, `registry.py` the steward's registry, `ledger.py` the
submission template and the ingestion ledger, `about.py` the release database's `about` table;
`catalog.py` names every table of the warehouse. From these descriptions come the Frictionless
`datapackage.json`, the DuckDB DDL of the warehouse and the release database, the Arrow schemas, the
registry's allowed values and patterns, the constraint checks (`checks.py`), the site's data dictionary
and the warehouse tables of CONTRIBUTING.md (`docs.py`). A column is described here and nowhere else.
"""
