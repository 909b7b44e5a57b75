"""The torch layer: modules and builders, traced counters and runtime measurement.

Nothing outside this package imports torch at module level, so that commands which only do
arithmetic (the analytic counter, scaling, reports) start without it.
"""
