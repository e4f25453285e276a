"""`zjtx init`: create or migrate the schema, optionally load the demo registry."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

from registry.errors import UserError
from registry.labels import label

if TYPE_CHECKING:  # loaded when the command runs, not for `zjtx --help`
    from sqlalchemy import Engine

console = Console(stderr=True)


def print_flags_refresh(engine: Engine, out: Console | None = console) -> None:
    """Compute the lifecycle flags of the registry just loaded or changed (else the review queue would wait for
    the 06:30 run); say so on `out` (None: silently)."""
    from jobs.runs import refresh_flags
    from registry.settings import get_settings

    outcome = refresh_flags(engine, get_settings())
    if out is None:
        return
    if outcome.status == "success":
        out.print(f"生命周期提示已计算 flags computed: {outcome.counts.get('computed', 0)}")
    else:
        out.print(f"[yellow]生命周期提示计算失败 flags failed[/] (run {outcome.run_id}): {outcome.error}; "
                  "稍后运行 run later: zjtx run-job flags")


def schema_ready_engine() -> Engine:
    """The app's engine, the schema created or upgraded first: `zjtx up` and `zjtx users add` (the first admin)
    may be the first commands run on a new install."""
    from registry.db import get_engine
    from registry.db_roles import ensure_schema

    ensure_schema()
    return get_engine()


def register(app: typer.Typer) -> None:
    app.command("init")(init)


def init(
    demo: bool = typer.Option(False, "--demo", help="Load a reproducible synthetic registry (demo data)."),
    firms: int = typer.Option(3000, "--firms", min=1, help="Number of demo firms (with --demo)."),
    seed: int = typer.Option(2021, "--seed", help="Random seed of the demo registry (with --demo)."),
    force: bool = typer.Option(False, "--force", help="With --demo: load even if the database already has firms."),
) -> None:
    """Create or upgrade the database schema (SQLite or PostgreSQL); --demo loads demo data. 创建/升级数据库。

    With database.owner_url set, migrates (and loads the demo) as the schema's owner, then grants the app's role
    (database.url) only what it needs (docs/deployment.md)."""
    from registry.db import check_connection, get_engine, is_empty
    from registry.db_roles import migrate, owner_engine

    check_connection(get_engine())
    before, after = migrate()
    url = get_engine().url.render_as_string(hide_password=True)
    if before == after:
        console.print(f"数据库已是最新 schema up to date ({after}): {url}")
    else:
        console.print(f"数据库已升级 schema {before or 'empty'} → {after}: {url}")
    if demo:
        if not is_empty(get_engine()) and not force:
            raise UserError("the database already holds firms; use --force to add a demo registry anyway")
        from registry.demo import build_demo

        with owner_engine() as engine:  # the demo load drops and rebuilds indexes: the owner's right
            summary = build_demo(engine, firms=firms, seed=seed, progress=True)
        console.print(demo_sentence(summary))
        print_flags_refresh(get_engine())


def demo_sentence(summary: dict[str, Any]) -> str:
    """What `init --demo` loaded, as a sentence (tier names from the label catalogue), not a Python dict."""
    tiers = "、".join(f"{label('tier', tier)} {n:,} 家" for tier, n in summary["firms_by_tier"].items())
    return (f"示例数据已载入：{summary['firms']:,} 家企业、{summary['recognitions']:,} 条认定、"
            f"{summary['reports']:,} 条报表，数据截至 {summary['as_of']}（随机种子 {summary['seed']}，"
            f"用时 {summary['seconds']} 秒）；其中{tiers}。\n"
            f"Demo registry loaded: {summary['firms']:,} firms, {summary['recognitions']:,} recognitions, "
            f"{summary['reports']:,} reports as of {summary['as_of']} (seed {summary['seed']}, "
            f"{summary['seconds']} s). Open the dashboard with `zjtx up`.")

