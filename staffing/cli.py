"""Command line: `staffing erlang | validate | requirements | optimise | compare | sweep | simulate | export`."""

from __future__ import annotations

import sys

import click

from . import __version__
from .errors import InputError, StaffingError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="staffing")
def cli():
    """Cost-optimal, service-level-safe staffing plans for inbound call centres."""


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the click group, turn errors into one line and an exit code."""
    try:
        cli.main(args=argv, prog_name="staffing", standalone_mode=False)
    except StaffingError as exc:
        click.echo(f"error: {exc}", err=True)
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


if __name__ == "__main__":
    run()
