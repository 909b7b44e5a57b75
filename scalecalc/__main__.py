"""`python -m scalecalc` runs the command line."""

from scalecalc.console import main

main()
