"""`python -m scalecalc` runs the command line."""

from scalecalc.cli import main

main()
