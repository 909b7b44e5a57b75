"""`--measured MODEL=IMAGES_PER_S` arguments as measured models with scalecalc's counts."""

from __future__ import annotations

import math
from collections.abc import Sequence

from scalecalc.errors import ProfileError, ScalecalcError, shown
from scalecalc.profile.calibrate import Measured
from scalecalc.profile.fit import SECONDS

# The throughputs of the times per image a fit accepts (1 ns to 1 hour): anything outside is a
# unit mistake, and would move a profile's level beyond what a profile may hold.
MIN_IMAGES_PER_SECOND, MAX_IMAGES_PER_SECOND = 1 / SECONDS[1], 1 / SECONDS[0]
USAGE = "--measured: expected MODEL=IMAGES_PER_S (a preset or model file, then images/s)"


def parse_measured(text: str) -> tuple[str, float]:
    """The model and images/s of one MODEL=IMAGES_PER_S; ProfileError naming what is allowed."""
    model, sign, number = text.rpartition("=")
    if not sign or not model:
        raise ProfileError(f"{USAGE}, got {shown(text)}")
    try:
        value = float(number)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and MIN_IMAGES_PER_SECOND <= value <= MAX_IMAGES_PER_SECOND):
        raise ProfileError(
            f"--measured {shown(text)}: IMAGES_PER_S must be a number from "
            f"{MIN_IMAGES_PER_SECOND:.3g} to {MAX_IMAGES_PER_SECOND:g} (1 image an hour to 1 "
            f"per nanosecond), got {shown(number)}"
        )
    return model, value


def measured_models(arguments: Sequence[str], convention: str) -> list[Measured]:
    """Each argument's model counted (analytic counter) in `convention`, with its images/s."""
    from scalecalc.api import count, load

    models = []
    for text in arguments:
        model, per_second = parse_measured(text)
        try:
            config = load(model)
            costs = count(config, convention)
        except ScalecalcError as error:
            raise ProfileError(f"--measured {shown(text)}: {error}") from None
        models.append(
            Measured(
                config.name,
                config.spec.family,
                float(costs.flops),
                float(costs.params),
                float(costs.acts),
                per_second,
            )
        )
    return models
