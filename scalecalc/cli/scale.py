"""`scalecalc scale`: a scaled spec as YAML, by factor or by flops target."""

from __future__ import annotations

from typing import Annotated

import typer

from scalecalc.cli._common import ConventionOption, OutputOption, app, emit, info, user_errors
from scalecalc.errors import StrategyError


@app.command("scale")
def scale_command(
    config: Annotated[str, typer.Argument(help="A YAML file or preset name.")],
    strategy: Annotated[
        str, typer.Option("--strategy", "-s", help="e.g. w, dwr, dWr, d1_w8_g8_r1.")
    ],
    factor: Annotated[float | None, typer.Option(help="Flops factor s (e.g. 4).")] = None,
    target_flops: Annotated[
        str | None, typer.Option(help="Flops to aim for, e.g. 16G; the closest model wins.")
    ] = None,
    target_factor: Annotated[
        float | None, typer.Option(help="Aim for this multiple of the base model's flops.")
    ] = None,
    convention: ConventionOption = "paper",
    output: OutputOption = None,
) -> None:
    """Print the scaled spec as YAML; target and realized flops factor go to stderr."""
    from scalecalc.api import count, load, scale
    from scalecalc.config import ModelConfig, dump
    from scalecalc.counting import check_convention
    from scalecalc.scaling import check_factor, parse_strategy
    from scalecalc.solver import solve
    from scalecalc.units import parse_count

    with user_errors():
        chosen = [o for o in (factor, target_flops, target_factor) if o is not None]
        if len(chosen) != 1:
            raise StrategyError("give exactly one of --factor, --target-flops, --target-factor")
        try:
            check_convention(convention)
        except ValueError as error:
            raise StrategyError(f"--convention: {error}") from None
        model = load(config)
        parsed = parse_strategy(strategy)
        base_flops = count(model.spec, convention).flops
        if factor is not None:
            spec = scale(model.spec, parsed, check_factor(factor))
            target, chosen_factor = base_flops * factor, factor
            flops = count(spec, convention).flops
        else:
            if target_flops is not None:
                target = parse_count(target_flops, "--target-flops")
            else:
                target = round(base_flops * check_factor(target_factor))
            solution = solve(model.spec, parsed, target, convention)
            spec, flops, chosen_factor = solution.spec, solution.flops, solution.factor
        name = f"{model.name}_{parsed.name.replace(':', '')}_x{chosen_factor:.4g}"
        info(
            f"{name}: factor {chosen_factor:.4g}; target flops {target / 1e9:.3f} G "
            f"({target / base_flops:.3f}x); realized {flops / 1e9:.3f} G "
            f"({flops / base_flops:.3f}x, {100 * (flops - target) / target:+.1f}%)"
        )
        emit(lambda: dump(ModelConfig(name, spec)), "yaml", output)
