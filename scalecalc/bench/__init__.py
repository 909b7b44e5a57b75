"""Measure runtime on this machine: measurement, checks, the partial file, reports, plots."""
