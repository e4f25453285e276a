"""`zjtx` entry point: assembles the command groups and turns user errors into one clear line."""

from __future__ import annotations

import sys
from typing import NoReturn

import typer

from cli import database, system
from registry.db import DatabaseError, unavailable_message
from registry.errors import UserError
from registry.settings import ConfigError, get_settings

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

for optional in ("ingest", "evaluate", "flags", "jobs", "users", "policies", "impact", "review_risk"):
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
        _fail(str(exc))
    except Exception as exc:
        # Every command, one place: a database that cannot be reached, opened or used (down, a bad URL, a SQLite
        # path that cannot be opened; also mid-command) is one line naming it — never a driver traceback.
        unavailable = unavailable_message(exc, _database_url())
        if unavailable is None:
            raise
        _fail(unavailable)


def _fail(message: str) -> NoReturn:
    typer.echo(f"zjtx: error: {message}", err=True)
    sys.exit(1)


def _database_url() -> str:
    try:
        return get_settings().database_url
    except Exception:  # noqa: BLE001 - the configuration itself may be what failed
        return ""


if __name__ == "__main__":
    main()
