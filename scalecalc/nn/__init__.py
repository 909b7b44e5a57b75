"""The torch layer: modules and builders, traced counters and runtime measurement.

Nothing outside this package imports torch at module level, so that commands which only do
arithmetic (the analytic counter, scaling, reports) start without it; without torch installed,
importing it is a one-line error naming the extra to install.
"""

from scalecalc.requires import require_torch

require_torch("building, tracing or timing a model (scalecalc.nn)")
