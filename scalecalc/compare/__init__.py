"""Compare strategies: run the sweep, rank at equal flops or time, annotate, report, plot."""
