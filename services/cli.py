"""plpbk: the operator command line, assembled from the platform's and services' commands."""
from shared.cli.main import cli

from .audit.cli import audit_group, verify_bundle
from .audit.rebuild_command import rebuild
from .gateway.cli import keys_group, users_group
from .registration.cli import import_villages
from .run import run


@cli.group("import")
def import_group():
    """Bulk imports."""


import_group.add_command(import_villages)
cli.add_command(run)
for command in (audit_group, verify_bundle, rebuild):
    cli.add_command(command)
for command in (users_group, keys_group):
    cli.add_command(command)

__all__ = ["cli"]

if __name__ == "__main__":
    cli()
