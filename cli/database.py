"""`zjtx init`: create or migrate the schema, optionally load the demo registry."""

from __future__ import annotations

import typer
from rich.console import Console

from registry.db import check_connection, current_revision, get_engine, is_empty, upgrade
from registry.errors import UserError

console = Console(stderr=True)


def register(app: typer.Typer) -> None:
    app.command("init")(init)


def init(
    demo: bool = typer.Option(False, "--demo", help="Load a reproducible synthetic registry (demo data)."),
    firms: int = typer.Option(3000, "--firms", min=1, help="Number of demo firms (with --demo)."),
    seed: int = typer.Option(2021, "--seed", help="Random seed of the demo registry (with --demo)."),
    force: bool = typer.Option(False, "--force", help="With --demo: load even if the database already has firms."),
) -> None:
    """Create or upgrade the database schema (SQLite or PostgreSQL); --demo loads demo data. 创建/升级数据库。"""
    engine = get_engine()
    check_connection(engine)
    before = current_revision(engine)
    upgrade(engine)
    after = current_revision(engine)
    url = engine.url.render_as_string(hide_password=True)
    if before == after:
        console.print(f"数据库已是最新 schema up to date ({after}): {url}")
    else:
        console.print(f"数据库已升级 schema {before or 'empty'} → {after}: {url}")
    if demo:
        if not is_empty(engine) and not force:
            raise UserError("the database already holds firms; use --force to add a demo registry anyway")
        from registry.demo import build_demo

        summary = build_demo(engine, firms=firms, seed=seed, progress=True)
        console.print(f"示例数据已载入 demo registry loaded: {summary}")

