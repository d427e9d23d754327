"""Command line: one module per command; `main` turns errors into one line and an exit code."""

from __future__ import annotations

import sys
import warnings

import click

from ..errors import StaffingError, StaffingWarning
from . import calibrate, capacity, compare, erlang, export, forecast, optimise, requirements, simulate, sweep, validate  # noqa: F401,E501  (register)
from .app import cli

__all__ = ["cli", "main", "run"]


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the click group, turn errors into one line and an exit code."""
    _SHOWN.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("always", StaffingWarning)
        warnings.showwarning = _show_warning
        return _main(argv)


_SHOWN: set = set()


def _show_warning(message, category, filename, lineno, file=None, line=None):
    if issubclass(category, StaffingWarning):
        if str(message) not in _SHOWN:  # once per run, wherever it is raised
            _SHOWN.add(str(message))
            click.echo(f"warning: {message}", err=True)
    else:
        click.echo(warnings.formatwarning(message, category, filename, lineno, line), err=True,
                   nl=False)


def _main(argv: list[str] | None) -> int:
    try:
        cli.main(args=argv, prog_name="staffing", standalone_mode=False)
    except StaffingError as exc:
        for line in str(exc).splitlines() or [""]:
            click.echo(f"error: {line}", err=True)
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:  # usage errors: bad option values, missing args
        click.echo(f"error: {exc.format_message()}", err=True)
        return 2
    return 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
