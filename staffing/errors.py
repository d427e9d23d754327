"""Errors the command line turns into one-line messages and exit codes."""

from __future__ import annotations

import contextlib
import warnings


class StaffingError(Exception):
    """Base class; `exit_code` is what the command line returns."""

    exit_code = 1


class InputError(StaffingError, ValueError):
    """Bad input: names where (file, row, field) and what is wrong. Exit code 2."""

    exit_code = 2

    def __init__(self, message: str, *, file: str | None = None, row: int | None = None,
                 field: str | None = None):
        self.file, self.row, self.field, self.problem = file, row, field, message
        where = []
        if file:
            where.append(str(file))
        if row is not None:
            where.append(f"row {row}")
        if field:
            where.append(f"field '{field}'")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


class InfeasiblePlan(StaffingError):
    """No plan meets the requirement within the allowed shortfall. Exit code 3."""

    exit_code = 3

    def __init__(self, message: str, diagnosis=None, details=()):
        super().__init__(message)
        self.diagnosis = diagnosis  # DataFrame of the worst slots, when known
        self.details = list(details)  # lines printed after the one-line error (a short table)


class SolverError(StaffingError):
    """The solver failed or found no feasible plan within its limits. Exit code 4."""

    exit_code = 4


class StaffingWarning(UserWarning):
    """Something the planner should know that does not stop the run; printed as one line."""


@contextlib.contextmanager
def collected_warnings():
    """The StaffingWarnings raised inside, collected instead of shown: yields a list that
    holds their texts, in order, once the block ends. For work a command may run on a Dask
    worker (whose warnings it would not see) or must name before it shows them. Other
    warnings are shown as they would have been."""
    said: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", StaffingWarning)
        yield said
    for w in caught:
        if issubclass(w.category, StaffingWarning):
            said.append(str(w.message))
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
