"""`zjtx` entry point: assembles the command groups and turns user errors into one clear line.

Start-up stays light (issue #13): every `zjtx` call, `--help` included, imports all command modules to list their
commands, so those modules import only typer, rich and the standard library at module level; the registry, polars
and SQLAlchemy load inside the command that needs them. tests/test_cli_startup.py guards it.
"""

from __future__ import annotations

import sys
from typing import NoReturn

import typer

from cli import database, evaluate, flags, impact, ingest, jobs, policies, review_risk, system, users
from registry.errors import UserError

app = typer.Typer(
    name="zjtx",
    help="专精特新企业梯度培育登记与监测系统 zjtx — registry, policies, lifecycle flags, dashboard.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# Each module adds its commands to the app, in the order `zjtx --help` lists them.
for module in (database, system, ingest, evaluate, flags, jobs, users, policies, impact, review_risk):
    module.register(app)


def main() -> None:
    try:
        app(standalone_mode=True)
    except UserError as exc:
        _fail(str(exc))
    except Exception as exc:
        from registry.db import DatabaseError, unavailable_message
        from registry.settings import ConfigError

        if isinstance(exc, ConfigError | DatabaseError):
            _fail(str(exc))
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
    from registry.settings import get_settings

    try:
        return get_settings().database_url
    except Exception:  # noqa: BLE001 - the configuration itself may be what failed
        return ""


if __name__ == "__main__":
    main()
