"""`python -m pipelines` is the `instep` command line."""

from pipelines.cli import main

main()
