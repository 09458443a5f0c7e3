"""One description of every published table and field.

From these descriptions come the Frictionless `datapackage.json`, the DuckDB DDL of the release database,
schema checks and the site's data dictionary. A column is described here and nowhere else.
"""
