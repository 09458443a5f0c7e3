"""`python -m instep` runs the command line."""

from instep.cli import main

main()
