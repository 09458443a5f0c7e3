"""`python -m instep` runs the commands that need no Dagster (`instep check`, `serve`, `doctor`,
`demo-data`); `python -m pipelines` and the `instep` console script run them all."""

from instep.cli import main

main()
