"""The `staffing` command group; each command registers itself from its own module."""

from __future__ import annotations

import click

from .. import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="staffing")
def cli():
    """Cost-optimal, service-level-safe staffing plans for inbound call centres."""
