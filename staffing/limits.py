"""Bounds on input values, shared by the scenario loader and the command-line options.

Beyond each bound an input is taken for a mistake and refused in one line (exit 2). This module
imports nothing, so the command line can state the bounds without loading pandas.
"""

MAX_CALL_S = 2700.0  # calls last up to 45 min (reference article)
MAX_NUMBER = 1e12  # no setting or table value is larger: beyond it, input is a mistake
MAX_WEEKS = 520  # ten years of weekly plans
MAX_AGENTS = 1e6  # headcount, seats: a million advisers is beyond any call centre
MAX_EUR_PER_HOUR = 1e4
MAX_ANNUAL_CALLS = 1e10  # per plateau: a hundred times the largest national hotline
