"""`python -m scalecalc` runs the command line."""

from scalecalc.cli.console import main

main()
