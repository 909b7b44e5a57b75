"""`scalecalc check`: recount sweeps and models and compare with a committed baseline."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from scalecalc.cli._common import app, emit, info, output_format, user_errors, write_atomic
from scalecalc.errors import BaselineError, ConfigError

if TYPE_CHECKING:
    from scalecalc.check import Baseline, Outcome
    from scalecalc.sweep import Entry

FORMATS = ("table", "md", "json")


@app.command("check")
def check_command(
    sources: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="SWEEP_OR_CONFIG",
            help="Sweep files (YAML with bases and strategies), model YAML files or preset names; "
            "default: the built-in sweep.",
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
        Path | None,
        typer.Option("--report", metavar="FILE", help="Also write the report as markdown to FILE."),
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format", "-f", help="md, json or table (default: md when piped, table on a terminal)"
        ),
    ] = None,
    convention: Annotated[
        str | None,
        typer.Option(
            "--convention",
            metavar="NAME",
            help="paper or fvcore (default: the sweeps', else paper).",
        ),
    ] = None,
) -> None:
    """Recount every entry and compare with the baseline; exit 1 on drift (2 on bad input)."""
    import scalecalc
    from scalecalc import check, check_report, compare

    with user_errors():
        if baseline is None:
            raise ConfigError("--baseline: required; name the baseline JSON file")
        fmt = output_format(fmt, FORMATS, None)
        rtol = check.check_rtol(rtol)
        for path in (report, baseline):
            if path is not None and not path.absolute().parent.is_dir():
                raise ConfigError(f"{path}: directory {path.parent} does not exist")
        entries, run_convention = resolve(sources or [], presets, convention)
        old = _old_baseline(baseline, update)
        if old is not None:
            if update and old.convention != run_convention:
                info(
                    f"check: the baseline changes from the {old.convention} to the "
                    f"{run_convention} convention"
                )
            elif not update:
                check.require_convention(old, run_convention)
        rows = compare.run(entries, run_convention)
        empty = check.Baseline(str(baseline), run_convention, scalecalc.__version__, {})
        drifts = check.diff(old or empty, rows, 0.0 if update else rtol)
        outcome = check.Outcome(
            drifts=tuple(drifts),
            entries=len(rows),
            convention=run_convention,
            rtol=rtol,
            baseline=str(baseline),
            updated=update,
            baseline_tool_version=None if old is None else old.tool_version,
            tool_version=scalecalc.__version__,
        )
        if update:
            text = check.format_baseline(check.records(rows), run_convention, scalecalc.__version__)
            _write(baseline, text)
        if report is not None:
            _write(report, check_report.to_markdown(outcome))
        renderers = {
            "md": lambda: check_report.to_markdown(outcome),
            "json": lambda: check_report.to_json(outcome),
            "table": lambda: _to_rich(outcome),
        }
        emit(renderers[fmt], fmt, None)
        _note_versions(outcome)
        info(check_report.summary(outcome))
    code = check.exit_code(drifts, update)
    if code:
        raise typer.Exit(code)


def resolve(sources: list[str], presets: bool, convention: str | None) -> tuple[list[Entry], str]:
    """The entries to check, in order and without repeats, and the convention to count with."""
    from scalecalc.cli._common import choose
    from scalecalc.counting import CONVENTIONS
    from scalecalc.registry import list_presets
    from scalecalc.sweep import DEFAULT_SWEEP, Entry, expand, load_base, read_sweep

    if convention is not None:
        choose(convention, CONVENTIONS, "--convention")
    entries: list[tuple[Entry, str]] = []
    conventions: dict[str, str] = {}
    if not sources:
        entries += [(e, "the default sweep") for e in expand(DEFAULT_SWEEP)]
        conventions["the default sweep"] = DEFAULT_SWEEP.convention
    for source in sources:
        if _is_sweep(source):
            sweep = read_sweep(source)
            entries += [(e, source) for e in expand(sweep, source)]
            conventions[source] = sweep.convention
        else:
            model = load_base(source)
            entries.append((Entry(f"{model.name}/base", model), source))
    if presets:
        for name in list_presets():
            entries.append((Entry(f"{name}/base", load_base(name)), "--presets"))
    if convention is None:
        found = set(conventions.values())
        if len(found) > 1:
            listed = ", ".join(f"{where}: {name}" for where, name in conventions.items())
            raise ConfigError(f"the sweeps use different conventions ({listed}); pass --convention")
        convention = found.pop() if found else "paper"
    return _unique(entries), convention


def _is_sweep(source: str) -> bool:
    """Whether `source` is a sweep file: a YAML mapping with a `bases` or `strategies` key."""
    from scalecalc.config import read_yaml

    path = Path(source)
    if path.suffix not in (".yaml", ".yml"):
        return False
    data = read_yaml(path)
    return isinstance(data, dict) and ("bases" in data or "strategies" in data)


def _unique(entries: list[tuple[Entry, str]]) -> list[Entry]:
    """Entries with repeats dropped; one key for two different models is an error."""
    seen: dict[str, tuple[Entry, str]] = {}
    for entry, where in entries:
        if entry.key in seen:
            first, first_where = seen[entry.key]
            if first != entry:
                raise ConfigError(
                    f"{where}: entry {entry.key!r} is also defined, differently, by {first_where}; "
                    "give one model another 'name:'"
                )
            continue
        seen[entry.key] = (entry, where)
    return [entry for entry, _ in seen.values()]


def _old_baseline(path: Path, update: bool) -> Baseline | None:
    """The baseline to compare with; None when --update creates it."""
    from scalecalc.check import read_baseline

    if update and not path.exists():
        return None
    try:
        return read_baseline(path)
    except BaselineError as error:
        # Refusing to overwrite guards against --baseline naming some other file by mistake.
        hint = "; delete it to write a new one" if update and path.is_file() else ""
        raise BaselineError(f"{error}{hint}") from None


def _write(path: Path, text: str) -> None:
    """write_atomic with OS errors as a one-line error; the old file survives any failure."""
    try:
        write_atomic(path, text)
    except OSError as error:
        raise BaselineError(f"{path}: cannot write ({error.strerror or error})") from None


def _note_versions(outcome: Outcome) -> None:
    old, new = outcome.baseline_tool_version, outcome.tool_version
    if old is not None and old != new and not outcome.updated:
        info(f"check: note: the baseline was written by scalecalc {old}, this is {new}")


def _to_rich(outcome: Outcome) -> list[Any]:
    """The report as rich renderables for a terminal."""
    from rich.table import Table

    from scalecalc.check import REPORT_HEADERS, report_rows, tolerance_text

    caption = f"{outcome.baseline}, {outcome.convention} convention"
    if not outcome.updated:
        caption += f", {tolerance_text(outcome.rtol)}"
    if not outcome.drifts:
        return [caption]
    table = Table(title="drift" if not outcome.updated else "changes", caption=caption)
    for header in REPORT_HEADERS:
        table.add_column(header, justify="left" if header in ("entry", "measure") else "right")
    for cells in report_rows(outcome):
        table.add_row(*cells)
    return [table]
