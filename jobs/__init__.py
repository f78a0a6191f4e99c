"""PyFlink SQL jobs that enrich and aggregate the flight events."""
