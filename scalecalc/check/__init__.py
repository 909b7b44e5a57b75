"""Model costs as a CI regression test: the baseline file, drift, the report."""
