"""Rosters: contracts, shift patterns, working-time rules, rosters per adviser, the checker.

Modules: `patterns` (shift patterns of a day), `rules` (working-time rules, contracts,
advisers, calendar as read from the model file), `builder` (rosters per adviser over the
horizon, CP-SAT), `check` (every rule on every roster line), `refit` (the week's plan again
with the in-house shifts the rosters give). docs/rosters.md gives the method.
"""
