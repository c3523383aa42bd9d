"""Offline evaluation: scripted suites and simulated shoppers scored per stage and end to end.

`aisle eval` (eval.run:cli) is the entry point; metrics are pure functions in eval.metrics.
"""
