"""`zjtx` entry point: assembles the command groups and turns user errors into one clear line."""

from __future__ import annotations

import sys

import typer
from sqlalchemy.exc import OperationalError

from cli import database, system
from registry.db import DatabaseError
from registry.errors import UserError
from registry.settings import ConfigError

app = typer.Typer(
    name="zjtx",
    help="专精特新企业梯度培育登记与监测系统 zjtx — registry, policies, lifecycle flags, dashboard.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# Each module adds its commands to the app; new command groups register here.
for module in (database, system):
    module.register(app)

for optional in ("ingest", "evaluate", "flags", "jobs", "users", "policies"):
    # Command groups built by later work; a missing module simply adds no commands.
    try:
        mod = __import__(f"cli.{optional}", fromlist=["register"])
    except ModuleNotFoundError as exc:
        if exc.name != f"cli.{optional}":
            raise
        continue
    mod.register(app)


def main() -> None:
    try:
        app(standalone_mode=True)
    except (UserError, ConfigError, DatabaseError) as exc:
        typer.echo(f"zjtx: error: {exc}", err=True)
        sys.exit(1)
    except OperationalError as exc:  # the database went away mid-command
        typer.echo(f"zjtx: error: database error: {str(exc.orig or exc).strip().splitlines()[0]}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
