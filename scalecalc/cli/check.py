"""`scalecalc check`: recount sweeps and models and compare with a committed baseline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from scalecalc.cli import outputs
from scalecalc.cli.common import (
    FORMAT_HELP,
    SweepConventionOption,
    app,
    emit,
    info,
    output_format,
    user_errors,
)
from scalecalc.cli.outputs import Destination
from scalecalc.errors import ConfigError


@app.command("check")
def check_command(
    sources: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="SWEEP_OR_CONFIG",
            help="Sweep files (YAML with bases and strategies), model YAML files or preset names; "
            "default: the built-in sweep.",
            show_default=False,
        ),
    ] = None,
    baseline: Annotated[
        Path | None,
        typer.Option("--baseline", "-b", metavar="FILE", help="The baseline JSON file (required)."),
    ] = None,
    rtol: Annotated[
        float,
        typer.Option(
            "--rtol",
            metavar="FLOAT",
            help="Relative drift allowed in flops and acts (params stay exact).",
        ),
    ] = 0.0,
    presets: Annotated[
        bool, typer.Option("--presets", help="Also check every built-in preset (as NAME/base).")
    ] = False,
    update: Annotated[
        bool,
        typer.Option("--update", help="Rewrite the baseline (atomically) with this run's counts."),
    ] = False,
    report: Annotated[
        str | None,
        typer.Option("--report", metavar="FILE", help="Also write the report as markdown to FILE."),
    ] = None,
    fmt: Annotated[
        Literal["table", "md", "json"] | None, typer.Option("--format", "-f", help=FORMAT_HELP)
    ] = None,
    convention: SweepConventionOption = None,
) -> None:
    """Recount every entry and compare with the baseline; exit 1 on drift (2 on bad input)."""
    from scalecalc.check import report as check_report
    from scalecalc.check.session import CheckOptions, check_sources

    with user_errors():
        if baseline is None:
            raise ConfigError("--baseline: required; name the baseline JSON file")
        fmt = output_format(fmt, None)
        # Every destination is checked before any counting; all are written at the end.
        report_to, baseline_to = _destinations(sources or [], baseline, report, update)
        options = CheckOptions(baseline, tuple(sources or ()), rtol, presets, update, convention)
        result = check_sources(options)
        batch = outputs.Outputs()
        if result.new_baseline is not None and baseline_to is not None:
            batch.add(baseline_to, result.new_baseline)
        if report_to is not None:
            batch.add(report_to, check_report.to_markdown(result.outcome))
        emit(check_report.renderer(fmt, result.outcome), fmt, outputs.destination(None), batch)
        batch.commit()
        for note in result.notes:
            info(note)
        info(check_report.summary(result.outcome))
    if result.exit_code:
        raise typer.Exit(result.exit_code)


def _destinations(
    sources: list[str], baseline: Path, report: str | None, update: bool
) -> tuple[Destination | None, Destination | None]:
    """Where --report and (with --update) the new baseline go: checked, and distinct."""
    report_to = None
    if report is not None:
        report_to = outputs.destination(report, "--report", [*sources, baseline])
    baseline_to = None
    if update:
        baseline_to = outputs.destination(str(baseline), "--baseline", sources)
    outputs.distinct(baseline_to, report_to)
    return report_to, baseline_to
