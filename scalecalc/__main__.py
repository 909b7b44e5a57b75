"""`python -m scalecalc` runs the command line."""

from scalecalc.cli import app

app(prog_name="scalecalc")
