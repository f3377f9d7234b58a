"""plpbk: the operator command line, assembled from the platform's and services' commands."""
import click

from shared.cli.main import cli

from .registration.cli import import_villages


@cli.group("import")
def import_group():
    """Bulk imports."""


import_group.add_command(import_villages)

__all__ = ["cli"]

if __name__ == "__main__":
    cli()
