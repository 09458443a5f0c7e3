"""The static transparency site: pages and charts generated from a release directory, built by MkDocs.

`build.generate_pages` writes Markdown and chart files into the build folder; `build.build_site` runs
`mkdocs build --strict` on them. The site reads only published releases, never the warehouse.
"""
